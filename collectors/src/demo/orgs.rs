//! The synthetic organisation registry: ministries, provinces, cities (with their ranking group),
//! counties and sub-districts, each org the sponsoring unit of one or more accounts.

use super::names::{CITIES, COUNTIES, DEPARTMENTS, MINISTRIES, PROVINCES};

/// Sub-district names; with a county they form the lowest tier, so that 200,000 accounts
/// still have distinct sponsoring units.
const STREETS: &[&str] = &[
    "东城", "西城", "南苑", "北关", "朝阳", "和平", "新华", "人民", "解放", "建设", "文化", "团结",
    "光明", "幸福", "胜利", "前进", "长江", "黄河", "中山", "花园", "滨江", "湖滨", "龙泉", "凤凰",
];

#[derive(Debug, Clone)]
pub struct Org {
    pub org_id: String,
    pub official_name: String,
    /// The short name accounts are usually named after (e.g. 江苏公安).
    pub short_name: String,
    pub duty_keywords: Vec<String>,
    /// Earlier official name and the date it stopped being used.
    pub former_name: Option<(String, &'static str)>,
    pub admin_level: &'static str,
    pub group: &'static str,
    pub region: String,
    pub parent_id: Option<String>,
    pub internal_dept: bool,
}

/// The date the 2018 institutional restructuring replaced the former names.
const FORMER_NAME_END: &str = "2018-11-01";

/// Hands out organisations in a mix of levels: every ten orgs, one ministry, two provincial,
/// two city-level and five county-level units, falling back to lower tiers when one runs out.
#[derive(Default)]
pub struct OrgPlanner {
    issued: usize,
    ministries: usize,
    provinces: usize,
    cities: usize,
    counties: usize,
    streets: usize,
}

impl OrgPlanner {
    pub fn next_org(&mut self) -> Org {
        let slot = self.issued % 10;
        self.issued += 1;
        let want_ministry = slot == 0;
        let want_province = matches!(slot, 1 | 2);
        let want_city = matches!(slot, 3 | 4);
        if want_ministry && self.ministries < MINISTRIES.len() {
            self.ministries += 1;
            return ministry(self.ministries - 1);
        }
        if (want_ministry || want_province) && self.provinces < PROVINCES.len() * DEPARTMENTS.len()
        {
            self.provinces += 1;
            return province(self.provinces - 1);
        }
        if (want_ministry || want_province || want_city)
            && self.cities < CITIES.len() * DEPARTMENTS.len()
        {
            self.cities += 1;
            return city(self.cities - 1);
        }
        let county_total = CITIES.len() * COUNTIES.len() * DEPARTMENTS.len();
        if self.counties < county_total {
            self.counties += 1;
            return county(self.counties - 1);
        }
        self.streets += 1;
        street(self.streets - 1)
    }
}

fn ministry(k: usize) -> Org {
    let (name, short, duties) = MINISTRIES[k];
    Org {
        org_id: format!("org-m{:03}", k + 1),
        official_name: name.to_string(),
        short_name: short.to_string(),
        duty_keywords: duties.iter().map(|s| s.to_string()).collect(),
        former_name: None,
        admin_level: "ministry",
        group: "部委",
        region: "100000".to_string(),
        parent_id: None,
        internal_dept: false,
    }
}

fn province(k: usize) -> Org {
    let (short, full, code) = PROVINCES[k % PROVINCES.len()];
    let d = mixed_department(k % PROVINCES.len(), k / PROVINCES.len());
    let dept = &DEPARTMENTS[d];
    Org {
        org_id: format!("org-p{code}-{d:02}"),
        official_name: format!("{full}{}", dept.province_name),
        short_name: format!("{short}{}", dept.short),
        duty_keywords: dept.duty_keywords.iter().map(|s| s.to_string()).collect(),
        former_name: dept
            .former
            .map(|(old, _)| (format!("{full}{old}"), FORMER_NAME_END)),
        admin_level: "province",
        group: "省级",
        region: code.to_string(),
        parent_id: None,
        internal_dept: false,
    }
}

fn city(k: usize) -> Org {
    let (name, province, group) = CITIES[k % CITIES.len()];
    let d = mixed_department(k % CITIES.len(), k / CITIES.len());
    let dept = &DEPARTMENTS[d];
    let code = city_code(k % CITIES.len(), province);
    Org {
        org_id: format!("org-c{code}-{d:02}"),
        official_name: format!("{name}市{}", dept.local_name),
        short_name: format!("{name}{}", dept.short),
        duty_keywords: dept.duty_keywords.iter().map(|s| s.to_string()).collect(),
        former_name: dept
            .former
            .map(|(_, old)| (format!("{name}市{old}"), FORMER_NAME_END)),
        admin_level: "city",
        group,
        region: code,
        parent_id: None,
        internal_dept: false,
    }
}

/// The department of the `round`-th org of a region: shifted by the region's position so that
/// consecutive orgs belong to different departments, yet each (region, department) pair occurs
/// exactly once over the rounds.
fn mixed_department(region_position: usize, round: usize) -> usize {
    (region_position + round) % DEPARTMENTS.len()
}

fn city_code(city: usize, province: usize) -> String {
    let prefix = &PROVINCES[province].2[..2];
    format!("{prefix}{:02}00", city % 100 + 1)
}

fn county(k: usize) -> Org {
    let n_cities = CITIES.len();
    let city_i = k % n_cities;
    let county_i = (k / n_cities) % COUNTIES.len();
    let d = mixed_department(city_i + county_i, k / (n_cities * COUNTIES.len()));
    let dept = &DEPARTMENTS[d];
    let (city_name, province, _) = CITIES[city_i];
    let county_name = format!("{city_name}{}区", COUNTIES[county_i]);
    let code = format!(
        "{}{:02}",
        &city_code(city_i, province)[..4],
        county_i % 100 + 1
    );
    Org {
        org_id: format!("org-x{code}-{d:02}"),
        official_name: format!("{county_name}{}", dept.local_name),
        short_name: format!("{}{}", COUNTIES[county_i], dept.short),
        duty_keywords: dept.duty_keywords.iter().map(|s| s.to_string()).collect(),
        former_name: dept
            .former
            .map(|(_, old)| (format!("{county_name}{old}"), FORMER_NAME_END)),
        admin_level: "county",
        group: "区县",
        region: code,
        parent_id: None,
        internal_dept: false,
    }
}

fn street(k: usize) -> Org {
    let n_cities = CITIES.len();
    let city_i = k % n_cities;
    let county_i = (k / n_cities) % COUNTIES.len();
    let street_i = (k / (n_cities * COUNTIES.len())) % STREETS.len();
    let round = k / (n_cities * COUNTIES.len() * STREETS.len());
    let (city_name, province, _) = CITIES[city_i];
    // Past the last combination the names repeat with a number, still distinct.
    let street_name = match round {
        0 => format!("{}街道", STREETS[street_i]),
        r => format!("{}{}街道", STREETS[street_i], r + 1),
    };
    let code = format!(
        "{}{:02}{:03}",
        &city_code(city_i, province)[..4],
        county_i % 100 + 1,
        street_i + 1 + round * STREETS.len()
    );
    Org {
        org_id: format!("org-s{code}"),
        official_name: format!("{city_name}{}区{street_name}办事处", COUNTIES[county_i]),
        short_name: format!("{}{street_name}", COUNTIES[county_i]),
        duty_keywords: vec!["街道".to_string(), "社区".to_string()],
        former_name: None,
        admin_level: "county",
        group: "区县",
        region: code,
        parent_id: None,
        internal_dept: false,
    }
}

/// An internal department (内设机构) of an org, e.g. its publicity section.
pub fn internal_department(parent: &Org) -> Org {
    Org {
        org_id: format!("{}-xck", parent.org_id),
        official_name: format!("{}宣传科", parent.official_name),
        short_name: format!("{}宣传科", parent.short_name),
        duty_keywords: parent.duty_keywords.clone(),
        former_name: None,
        admin_level: parent.admin_level,
        group: parent.group,
        region: parent.region.clone(),
        parent_id: Some(parent.org_id.clone()),
        internal_dept: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids_are_unique_across_many_orgs() {
        let mut planner = OrgPlanner::default();
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for _ in 0..130_000 {
            let org = planner.next_org();
            assert!(
                ids.insert(org.org_id.clone()),
                "duplicate id {}",
                org.org_id
            );
            assert!(
                names.insert(org.official_name.clone()),
                "duplicate name {}",
                org.official_name
            );
        }
    }

    #[test]
    fn the_first_orgs_mix_every_level() {
        let mut planner = OrgPlanner::default();
        let levels: std::collections::HashSet<_> =
            (0..10).map(|_| planner.next_org().admin_level).collect();
        assert_eq!(levels.len(), 4);
    }
}
