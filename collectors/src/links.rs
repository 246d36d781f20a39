//! The link checker (`govmedia check-links`): every http(s) menu target and post link in the
//! store is requested — HEAD, then GET when the server refuses HEAD — concurrently up to a limit,
//! with a timeout and a bounded number of redirects, and the outcome lands in `link_checks`
//! (status or error, with the time of the check). Loopback, private, link-local and other
//! non-public addresses are refused unless `allow_private`: the checker must not become a way to
//! probe an intranet, and each refused URL says so.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use polars::prelude::*;

use crate::Error;
use crate::record::{TableBuilder, Value};
use crate::schema::{LINK_CHECKS, MENUS, POSTS};
use crate::store::{FILE_COL, SEQ_COL, Store};

#[derive(Debug, Clone)]
pub struct LinkCheckOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    pub timeout: Duration,
    pub max_redirects: usize,
    /// Check loopback and private-network addresses too (refused by default).
    pub allow_private: bool,
}

impl Default for LinkCheckOptions {
    fn default() -> Self {
        LinkCheckOptions {
            concurrency: 16,
            timeout: Duration::from_secs(10),
            max_redirects: 5,
            allow_private: false,
        }
    }
}

/// The outcome of one URL.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkResult {
    pub url: String,
    pub checked_at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
}

/// Counts for the command's summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkSummary {
    pub checked: usize,
    pub ok: usize,
    pub broken: usize,
    pub failed: usize,
    pub refused: usize,
}

/// Whether an address is not on the public internet: loopback, private (RFC 1918, fc00::/7),
/// link-local, shared (100.64/10), unspecified, multicast or documentation ranges.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Why a URL may not be requested, if it may not: not http(s), or a host that is or resolves
/// to a non-public address.
async fn refusal(url: &url::Url, allow_private: bool) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("refused: scheme {} is not http(s)", url.scheme()));
    }
    if allow_private {
        return None;
    }
    let host = url.host_str()?.trim_matches(['[', ']']);
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            // Unresolvable hosts fail in the request itself, with the resolver's error.
            Err(_) => Vec::new(),
        },
    };
    addresses.iter().find(|ip| is_private(**ip)).map(|ip| {
        format!("refused: {host} is a private or loopback address ({ip}); use --allow-private")
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Describes a request error without the URL's query (it may carry tokens).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_redirect() {
        "too many redirects".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        format!("request failed: {}", e.without_url())
    }
}

async fn check_one(client: &reqwest::Client, raw: String, allow_private: bool) -> LinkResult {
    let checked_at = now_ms();
    let result = |status, error| LinkResult {
        url: raw.clone(),
        checked_at,
        status,
        error,
    };
    let Ok(url) = url::Url::parse(raw.trim()) else {
        return result(None, Some("not a valid URL".into()));
    };
    if let Some(why) = refusal(&url, allow_private).await {
        return result(None, Some(why));
    }
    let head = client.head(url.clone()).send().await;
    // Some servers refuse HEAD (405, 501) or answer it wrongly: ask again with GET.
    let response = match head {
        Ok(r) if !matches!(r.status().as_u16(), 403 | 405 | 501) => Ok(r),
        _ => client.get(url).send().await,
    };
    match response {
        Ok(r) => result(Some(r.status().as_u16() as i64), None),
        Err(e) => result(None, Some(describe(e))),
    }
}

/// Checks the URLs, at most `concurrency` at a time.
pub async fn check_urls(
    urls: Vec<String>,
    opts: &LinkCheckOptions,
) -> Result<Vec<LinkResult>, Error> {
    let allow_private = opts.allow_private;
    let max_redirects = opts.max_redirects;
    // Redirects are followed up to the limit, and never into a private address literal.
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= max_redirects {
            return attempt.error("too many redirects");
        }
        let private = attempt
            .url()
            .host_str()
            .and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok())
            .is_some_and(is_private);
        if private && !allow_private {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    let client = reqwest::Client::builder()
        .timeout(opts.timeout)
        .redirect(policy)
        .user_agent("govmedia-link-checker")
        .build()
        .map_err(|e| Error::Input(format!("cannot start the HTTP client: {e}")))?;
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, url) in urls.into_iter().enumerate() {
        let client = client.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            (i, check_one(&client, url, allow_private).await)
        });
    }
    let mut results = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, r) = done.map_err(|e| Error::Input(format!("a link check failed: {e}")))?;
        results.push((i, r));
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// The http(s) URLs to check: menu targets and post links, each once, in order.
pub fn urls_in_store(store: &Store) -> Result<Vec<String>, Error> {
    let mut urls = BTreeSet::new();
    let menus = store
        .scan_table(&MENUS)?
        .select([col("target")])
        .collect()
        .map_err(|e| Error::polars(&store.table_path(&MENUS), e))?;
    let posts = store
        .scan_table(&POSTS)?
        .select([col("links")])
        .explode(
            cols(["links"]),
            ExplodeOptions {
                empty_as_null: true,
                keep_nulls: true,
            },
        )
        .collect()
        .map_err(|e| Error::polars(&store.table_path(&POSTS), e))?;
    for (df, column, path) in [
        (&menus, "target", store.table_path(&MENUS)),
        (&posts, "links", store.table_path(&POSTS)),
    ] {
        let values = df
            .column(column)
            .and_then(|c| c.str().cloned())
            .map_err(|e| Error::polars(&path, e))?;
        for v in values.iter().flatten() {
            let v = v.trim();
            if v.starts_with("http://") || v.starts_with("https://") {
                urls.insert(v.to_string());
            }
        }
    }
    Ok(urls.into_iter().collect())
}

/// Checks every link of the store and merges the results into `link_checks`.
pub fn check_store_links(
    store: &Store,
    opts: &LinkCheckOptions,
) -> Result<(Vec<LinkResult>, LinkSummary), Error> {
    let urls = urls_in_store(store)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(store.dir(), e))?;
    let results = runtime.block_on(check_urls(urls, opts))?;
    let mut summary = LinkSummary {
        checked: results.len(),
        ..Default::default()
    };
    let mut builder = TableBuilder::new(&LINK_CHECKS);
    for r in &results {
        match (r.status, &r.error) {
            (Some(s), _) if s < 400 => summary.ok += 1,
            (Some(_), _) => summary.broken += 1,
            (None, Some(e)) if e.starts_with("refused") => summary.refused += 1,
            _ => summary.failed += 1,
        }
        builder.push(vec![
            Value::Str(r.url.clone()),
            Value::Time(r.checked_at),
            r.status.map_or(Value::Null, Value::Int),
            r.error.clone().map_or(Value::Null, Value::Str),
        ]);
    }
    let n = results.len();
    let mut df = builder
        .finish()
        .map_err(|e| Error::polars(&store.table_path(&LINK_CHECKS), e))?;
    df.with_column(Column::new(
        PlSmallStr::from_static(FILE_COL),
        vec![0u32; n],
    ))
    .and_then(|df| {
        df.with_column(Column::new(
            PlSmallStr::from_static(SEQ_COL),
            (0..n as i64).collect::<Vec<_>>(),
        ))
    })
    .map_err(|e| Error::polars(&store.table_path(&LINK_CHECKS), e))?;
    if n > 0 {
        // The checks took minutes; the write waits for a running import rather than failing.
        let tx = store.begin(true)?;
        tx.merge(&LINK_CHECKS, df)?;
        tx.commit()?;
    }
    Ok((results, summary))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use super::*;
    use crate::testserver::{Reply, Request, serve_with};

    /// Redirects, a redirect loop, 404, a server refusing HEAD, a slow answer.
    fn serve() -> SocketAddr {
        let handler = |r: &Request| {
            let reply = |status| Reply::json(status, "");
            match (r.method.as_str(), r.path.as_str()) {
                (_, "/ok") => reply(200),
                (_, "/moved") => reply(301).header("Location", "/ok"),
                (_, "/loop") => reply(302).header("Location", "/loop"),
                (_, "/missing") => reply(404),
                ("HEAD", "/nohead") => reply(405),
                ("GET", "/nohead") => reply(200),
                (_, "/slow") => reply(200).delayed(std::time::Duration::from_secs(3)),
                _ => reply(500),
            }
        };
        serve_with(Arc::new(handler)).0
    }

    fn run(urls: Vec<String>, allow_private: bool) -> Vec<LinkResult> {
        let opts = LinkCheckOptions {
            timeout: Duration::from_millis(1500),
            allow_private,
            ..Default::default()
        };
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(check_urls(urls, &opts))
            .unwrap()
    }

    #[test]
    fn statuses_redirects_head_fallback_and_timeouts() {
        let addr = serve();
        let url = |p: &str| format!("http://{addr}{p}");
        let results = run(
            ["/ok", "/moved", "/missing", "/nohead", "/slow", "/loop"]
                .iter()
                .map(|p| url(p))
                .collect(),
            true,
        );
        let got: Vec<(Option<i64>, Option<String>)> = results
            .iter()
            .map(|r| (r.status, r.error.clone()))
            .collect();
        assert_eq!(got[0], (Some(200), None));
        assert_eq!(got[1], (Some(200), None), "the redirect is followed");
        assert_eq!(got[2], (Some(404), None));
        assert_eq!(got[3], (Some(200), None), "GET after a refused HEAD");
        assert_eq!(got[4], (None, Some("timeout".into())));
        assert_eq!(got[5], (None, Some("too many redirects".into())));
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        let addr = serve();
        let results = run(
            vec![
                format!("http://{addr}/ok"),
                format!("http://localhost:{}/ok", addr.port()),
                "http://10.1.2.3/intranet".into(),
                "http://[::1]/x".into(),
                "javascript:alert(1)".into(),
            ],
            false,
        );
        for r in &results[..4] {
            let e = r.error.as_deref().unwrap_or("");
            assert!(
                e.contains("refused") && e.contains("--allow-private"),
                "{r:?}"
            );
            assert_eq!(r.status, None);
        }
        assert!(results[4].error.as_deref().unwrap().contains("not http(s)"));
        assert!(is_private("100.64.1.1".parse().unwrap()));
        assert!(is_private("fd00::1".parse().unwrap()));
        assert!(!is_private("202.108.22.5".parse().unwrap()));
    }

    #[test]
    fn results_land_in_link_checks() {
        let addr = serve();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let input = tempfile::tempdir().unwrap();
        std::fs::write(
            input.path().join("menus.csv"),
            format!(
                "account_id,path,name,kind,target,collected_at\n\
                 wechat:gh_1,办事/网上办事,网上办事,view,http://{addr}/ok,2025-11-30T10:00:00+08:00\n\
                 wechat:gh_1,办事/旧链接,旧链接,view,http://{addr}/missing,2025-11-30T10:00:00+08:00\n\
                 wechat:gh_1,联系,联系,click,CONTACT,2025-11-30T10:00:00+08:00\n"
            ),
        )
        .unwrap();
        crate::import::import_paths(&store, &[input.path().to_path_buf()], &Default::default())
            .unwrap();
        let opts = LinkCheckOptions {
            allow_private: true,
            timeout: Duration::from_secs(2),
            ..Default::default()
        };
        let (_, summary) = check_store_links(&store, &opts).unwrap();
        assert_eq!((summary.checked, summary.ok, summary.broken), (2, 1, 1));
        let table = store.read_table(&LINK_CHECKS).unwrap().unwrap();
        assert_eq!(table.height(), 2);
        let statuses: Vec<Option<i64>> = table
            .column("status")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert!(statuses.contains(&Some(404)) && statuses.contains(&Some(200)));
    }
}
