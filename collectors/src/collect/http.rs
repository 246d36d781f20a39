//! The HTTP layer every collector shares: a rate limiter (governor) and a concurrency limit per
//! platform, retries with exponential backoff and jitter (backon) on network errors, 5xx, 429,
//! the platforms' own "busy / rate limited" codes and `Retry-After`, and a tally of every error
//! by code for the run's summary. Errors never carry the request URL: it holds tokens.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::Value as Json;
use tokio::sync::Semaphore;

/// Rate and retry limits of one platform (`[<platform>.limits]` in the collection config).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Requests per second, across all accounts of the platform.
    pub qps: f64,
    /// Requests allowed at once above the steady rate (1 = none).
    pub burst: u32,
    /// Requests in flight at once, and accounts collected at once.
    pub concurrency: usize,
    /// Retries of one request after the first try.
    pub retries: usize,
    /// First backoff pause in milliseconds; it doubles per retry, with jitter.
    pub backoff_ms: u64,
    /// Longest backoff pause in milliseconds.
    pub max_backoff_ms: u64,
    /// A `Retry-After` longer than this (seconds) is not waited for: the request fails.
    pub max_retry_after_secs: u64,
    /// Timeout of one request in seconds.
    pub timeout_secs: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            qps: 5.0,
            burst: 1,
            concurrency: 4,
            retries: 4,
            backoff_ms: 500,
            max_backoff_ms: 30_000,
            max_retry_after_secs: 300,
            timeout_secs: 30,
        }
    }
}

/// What a platform's error code asks of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Busy or rate limited: back off and try again.
    Retry,
    /// The access token is invalid or expired: refresh it (once) and try again.
    Token,
    /// The daily quota is spent: stop this account, resume another day.
    Quota,
    /// Anything else: the request fails with the platform's message.
    Fail,
}

/// A platform error found in a response body: code, message, what to do.
pub struct ApiFault {
    pub code: String,
    pub message: String,
    pub verdict: Verdict,
}

/// Reads a platform's error out of a parsed body (`None` = a good answer).
pub type Classify = fn(&Json) -> Option<ApiFault>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("network error: {0}")]
    Network(String),
    #[error("HTTP status {status}")]
    Http {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("the server sent invalid JSON ({0})")]
    InvalidJson(String),
    #[error("error {code}: {message}")]
    Api {
        code: String,
        message: String,
        verdict: Verdict,
        retry_after: Option<Duration>,
    },
}

impl CallError {
    /// The key this error is counted under in the summary.
    pub fn code(&self) -> String {
        match self {
            CallError::Network(_) => "network".into(),
            CallError::Http { status, .. } => format!("HTTP {status}"),
            CallError::InvalidJson(_) => "invalid JSON".into(),
            CallError::Api { code, .. } => code.clone(),
        }
    }

    fn retryable(&self) -> bool {
        match self {
            CallError::Network(_) | CallError::InvalidJson(_) => true,
            CallError::Http {
                status,
                retry_after,
            } => *status >= 500 || *status == 429 || retry_after.is_some(),
            CallError::Api { verdict, .. } => *verdict == Verdict::Retry,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Http { retry_after, .. } | CallError::Api { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    pub fn verdict(&self) -> Option<Verdict> {
        match self {
            CallError::Api { verdict, .. } => Some(*verdict),
            _ => None,
        }
    }
}

/// A good answer: the body as received (saved unchanged) and parsed.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub text: String,
    pub json: Json,
}

/// Errors seen during a run, by platform code (`-1`, `10023`, `HTTP 503`, `network` …).
#[derive(Debug, Clone, Default)]
pub struct ErrorTally(Arc<Mutex<BTreeMap<String, usize>>>);

impl ErrorTally {
    pub fn count(&self, code: String) {
        *self.0.lock().unwrap().entry(code).or_default() += 1;
    }
    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.lock().unwrap().clone()
    }
}

/// One platform's client: every request of every account goes through its limiter.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    limiter: Arc<DefaultDirectRateLimiter>,
    in_flight: Arc<Semaphore>,
    limits: Limits,
    classify: Classify,
    pub errors: ErrorTally,
}

impl Api {
    pub fn new(limits: &Limits, classify: Classify) -> Result<Api, crate::Error> {
        let bad = |what: &str| crate::Error::Input(format!("collection limits: {what}"));
        if !(limits.qps > 0.0 && limits.qps.is_finite()) {
            return Err(bad("qps must be a positive number"));
        }
        if limits.concurrency == 0 {
            return Err(bad("concurrency must be at least 1"));
        }
        let burst = NonZeroU32::new(limits.burst).ok_or_else(|| bad("burst must be at least 1"))?;
        let period = Duration::from_secs_f64(1.0 / limits.qps);
        let quota = Quota::with_period(period)
            .ok_or_else(|| bad("qps is too high"))?
            .allow_burst(burst);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(limits.timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("govmedia/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Input(format!("cannot start the HTTP client: {e}")))?;
        Ok(Api {
            http,
            limiter: Arc::new(RateLimiter::direct(quota)),
            in_flight: Arc::new(Semaphore::new(limits.concurrency)),
            limits: limits.clone(),
            classify,
            errors: ErrorTally::default(),
        })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sends the request `build` makes, retrying what is worth retrying. `build` is called
    /// once per try (a request cannot be sent twice).
    pub async fn fetch(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Fetched, CallError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.limits.backoff_ms))
            .with_max_delay(Duration::from_millis(
                self.limits.max_backoff_ms.max(self.limits.backoff_ms),
            ))
            .with_max_times(self.limits.retries)
            .with_jitter();
        let longest_wait = Duration::from_secs(self.limits.max_retry_after_secs);
        (|| self.once(&build))
            .retry(backoff)
            .when(CallError::retryable)
            .adjust(|e, pause| match e.retry_after() {
                // The server said when: wait that long (plus the jittered pause's
                // randomness is not wanted here), unless it is beyond reason.
                Some(after) if after <= longest_wait => Some(after),
                Some(_) => None,
                None => pause,
            })
            .await
    }

    async fn once(
        &self,
        build: &impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Fetched, CallError> {
        self.limiter.until_ready().await;
        let _slot = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| CallError::Network("the client is shutting down".into()))?;
        let result = self.send(build()).await;
        if let Err(e) = &result {
            self.errors.count(e.code());
        }
        result
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Fetched, CallError> {
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Network(e.without_url().to_string()))?;
        // Platforms answer errors with a JSON body under 4xx/5xx statuses too (Weibo's rate
        // limits come as 403): the body's code says more than the status.
        let parsed = serde_json::from_str::<Json>(&text);
        if let Ok(json) = &parsed
            && let Some(fault) = (self.classify)(json)
        {
            return Err(CallError::Api {
                code: fault.code,
                message: fault.message,
                verdict: fault.verdict,
                retry_after,
            });
        }
        if !(200..300).contains(&status) {
            return Err(CallError::Http {
                status,
                retry_after,
            });
        }
        match parsed {
            Ok(json) => Ok(Fetched { text, json }),
            Err(e) => Err(CallError::InvalidJson(e.to_string())),
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testserver::{Reply, Request, serve_with};
    use std::time::Instant;

    fn no_fault(_: &Json) -> Option<ApiFault> {
        None
    }

    fn fast(qps: f64) -> Limits {
        Limits {
            qps,
            backoff_ms: 5,
            max_backoff_ms: 50,
            ..Limits::default()
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn the_limiter_keeps_the_request_rate_under_the_configured_qps() {
        let handler = |_: &Request| Reply::json(200, "{}");
        let (addr, log) = serve_with(Arc::new(handler));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let api = Api::new(
            &Limits {
                concurrency: 8,
                ..fast(20.0)
            },
            no_fault,
        )
        .unwrap();
        let started = Instant::now();
        runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..30 {
                let api = api.clone();
                tasks.spawn(async move {
                    api.fetch(|| api.http().get(format!("http://{addr}/x")))
                        .await
                        .unwrap()
                });
            }
            while tasks.join_next().await.is_some() {}
        });
        let elapsed = started.elapsed().as_secs_f64();
        // 30 requests at 20/s with a burst of 1: the first is free, the other 29 wait 50 ms each.
        assert!(elapsed >= 29.0 / 20.0 * 0.95, "took {elapsed:.3} s");
        let times: Vec<Instant> = log.lock().unwrap().iter().map(|r| r.at).collect();
        assert_eq!(times.len(), 30);
        // Seen by the server: no one-second window holds more than qps + burst requests.
        for (i, start) in times.iter().enumerate() {
            let within = times[i..]
                .iter()
                .filter(|t| t.duration_since(*start) < Duration::from_secs(1))
                .count();
            assert!(within <= 21, "{within} requests within a second");
        }
    }

    #[test]
    fn retry_after_is_honoured_and_5xx_retried_then_given_up() {
        let calls = Arc::new(Mutex::new(0usize));
        let seen = calls.clone();
        let handler = move |r: &Request| {
            let mut n = seen.lock().unwrap();
            *n += 1;
            match (r.path.as_str(), *n) {
                ("/limited", 1) => Reply::json(429, "{}").header("Retry-After", "1"),
                ("/limited", _) => Reply::json(200, r#"{"ok":true}"#),
                _ => Reply::json(503, "down"),
            }
        };
        let (addr, log) = serve_with(Arc::new(handler));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let api = Api::new(&fast(100.0), no_fault).unwrap();
        let started = Instant::now();
        let ok = runtime
            .block_on(api.fetch(|| api.http().get(format!("http://{addr}/limited"))))
            .unwrap();
        assert_eq!(ok.json["ok"], true);
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "Retry-After: 1 waited for"
        );
        let err = runtime
            .block_on(api.fetch(|| api.http().get(format!("http://{addr}/down"))))
            .unwrap_err();
        assert!(matches!(err, CallError::Http { status: 503, .. }));
        let down = log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == "/down")
            .count();
        assert_eq!(down, 1 + api.limits().retries, "retried, then given up");
        let tally = api.errors.snapshot();
        assert_eq!(tally["HTTP 429"], 1);
        assert_eq!(tally["HTTP 503"], 5);
    }

    #[test]
    fn backoff_pauses_grow() {
        let handler = |_: &Request| Reply::json(500, "{}");
        let (addr, log) = serve_with(Arc::new(handler));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let limits = Limits {
            retries: 4,
            backoff_ms: 40,
            max_backoff_ms: 10_000,
            qps: 1000.0,
            ..Limits::default()
        };
        let api = Api::new(&limits, no_fault).unwrap();
        let _ = runtime.block_on(api.fetch(|| api.http().get(format!("http://{addr}/"))));
        let times: Vec<Instant> = log.lock().unwrap().iter().map(|r| r.at).collect();
        let gaps: Vec<f64> = times
            .windows(2)
            .map(|w| w[1].duration_since(w[0]).as_secs_f64() * 1000.0)
            .collect();
        assert_eq!(gaps.len(), 4);
        // Exponential: 40, 80, 160, 320 ms, each plus up to its own length of jitter.
        for (i, gap) in gaps.iter().enumerate() {
            let base = 40.0 * f64::from(1u32 << i);
            assert!(
                *gap >= base * 0.9 && *gap <= base * 2.0 + 60.0,
                "gap {i}: {gap:.0} ms"
            );
        }
    }

    #[test]
    fn a_timeout_is_a_network_error_and_is_retried() {
        let calls = Arc::new(Mutex::new(0usize));
        let seen = calls.clone();
        let handler = move |_: &Request| {
            let mut n = seen.lock().unwrap();
            *n += 1;
            if *n == 1 {
                Reply::json(200, "{}").delayed(Duration::from_millis(1500))
            } else {
                Reply::json(200, r#"{"ok":1}"#)
            }
        };
        let (addr, _) = serve_with(Arc::new(handler));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let api = Api::new(
            &Limits {
                timeout_secs: 1,
                ..fast(100.0)
            },
            no_fault,
        )
        .unwrap();
        let ok = runtime
            .block_on(api.fetch(|| {
                api.http()
                    .get(format!("http://{addr}/slow?access_token=TOKEN"))
            }))
            .unwrap();
        assert_eq!(ok.json["ok"], 1);
        assert_eq!(api.errors.snapshot()["network"], 1);
        assert_eq!(*calls.lock().unwrap(), 2);
        // A failure's message never carries the URL (and so never the token in it).
        let (dead, _) = serve_with(Arc::new(|_: &Request| {
            Reply::json(200, "{}").delayed(Duration::from_millis(1500))
        }));
        let api = Api::new(
            &Limits {
                timeout_secs: 1,
                retries: 0,
                ..fast(100.0)
            },
            no_fault,
        )
        .unwrap();
        let err = runtime
            .block_on(api.fetch(|| {
                api.http()
                    .get(format!("http://{dead}/slow?access_token=TOKEN"))
            }))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("network error") && !err.contains("TOKEN"),
            "{err}"
        );
    }

    #[test]
    fn malformed_json_is_reported_not_a_panic() {
        let handler = |_: &Request| Reply::json(200, r#"{"item":[{"title":"半截"#);
        let (addr, _) = serve_with(Arc::new(handler));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let api = Api::new(&fast(100.0), no_fault).unwrap();
        let err = runtime
            .block_on(api.fetch(|| api.http().get(format!("http://{addr}/"))))
            .unwrap_err();
        assert!(
            err.to_string().starts_with("the server sent invalid JSON"),
            "{err}"
        );
        assert_eq!(api.errors.snapshot()["invalid JSON"], 5);
    }
}
