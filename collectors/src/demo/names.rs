//! Static vocabulary of the synthetic archive: regions, departments and post texts. Real place
//! and institution names, combined synthetically (a generated county department need not exist).

/// A department template: its name at province / city-or-county level, short-name stem, the
/// words tied to its duties, and an earlier name it carried before the 2018 restructuring.
pub struct Department {
    pub province_name: &'static str,
    pub local_name: &'static str,
    pub short: &'static str,
    pub duty_keywords: &'static [&'static str],
    /// (earlier province-level name, earlier local name), used until 2018-11-01.
    pub former: Option<(&'static str, &'static str)>,
}

pub const DEPARTMENTS: &[Department] = &[
    Department {
        province_name: "人民政府办公厅",
        local_name: "人民政府办公室",
        short: "发布",
        duty_keywords: &["发布", "政府"],
        former: None,
    },
    Department {
        province_name: "公安厅",
        local_name: "公安局",
        short: "公安",
        duty_keywords: &["公安", "警方", "警察"],
        former: None,
    },
    Department {
        province_name: "交通运输厅",
        local_name: "交通运输局",
        short: "交通",
        duty_keywords: &["交通", "出行"],
        former: None,
    },
    Department {
        province_name: "卫生健康委员会",
        local_name: "卫生健康委员会",
        short: "卫健委",
        duty_keywords: &["卫健", "健康"],
        former: Some(("卫生和计划生育委员会", "卫生和计划生育委员会")),
    },
    Department {
        province_name: "市场监督管理局",
        local_name: "市场监督管理局",
        short: "市场监管",
        duty_keywords: &["市场监管"],
        former: Some(("工商行政管理局", "工商行政管理局")),
    },
    Department {
        province_name: "生态环境厅",
        local_name: "生态环境局",
        short: "生态环境",
        duty_keywords: &["环境", "生态", "环保"],
        former: Some(("环境保护厅", "环境保护局")),
    },
    Department {
        province_name: "应急管理厅",
        local_name: "应急管理局",
        short: "应急",
        duty_keywords: &["应急"],
        former: Some(("安全生产监督管理局", "安全生产监督管理局")),
    },
    Department {
        province_name: "教育厅",
        local_name: "教育局",
        short: "教育",
        duty_keywords: &["教育"],
        former: None,
    },
    Department {
        province_name: "人力资源和社会保障厅",
        local_name: "人力资源和社会保障局",
        short: "人社",
        duty_keywords: &["人社", "社保", "就业"],
        former: None,
    },
    Department {
        province_name: "民政厅",
        local_name: "民政局",
        short: "民政",
        duty_keywords: &["民政"],
        former: None,
    },
    Department {
        province_name: "文化和旅游厅",
        local_name: "文化和旅游局",
        short: "文旅",
        duty_keywords: &["文旅", "旅游", "文化"],
        former: Some(("旅游发展委员会", "旅游局")),
    },
    Department {
        province_name: "医疗保障局",
        local_name: "医疗保障局",
        short: "医保",
        duty_keywords: &["医保"],
        former: None,
    },
    Department {
        province_name: "住房和城乡建设厅",
        local_name: "住房和城乡建设局",
        short: "住建",
        duty_keywords: &["住建", "住房"],
        former: None,
    },
    Department {
        province_name: "农业农村厅",
        local_name: "农业农村局",
        short: "农业农村",
        duty_keywords: &["农业", "农村"],
        former: None,
    },
    Department {
        province_name: "司法厅",
        local_name: "司法局",
        short: "司法",
        duty_keywords: &["司法", "法治"],
        former: None,
    },
    Department {
        province_name: "气象局",
        local_name: "气象局",
        short: "气象",
        duty_keywords: &["气象", "天气"],
        former: None,
    },
];

/// (short name, full name, region code) of the provincial-level divisions.
pub const PROVINCES: &[(&str, &str, &str)] = &[
    ("北京", "北京市", "110000"),
    ("天津", "天津市", "120000"),
    ("河北", "河北省", "130000"),
    ("山西", "山西省", "140000"),
    ("内蒙古", "内蒙古自治区", "150000"),
    ("辽宁", "辽宁省", "210000"),
    ("吉林", "吉林省", "220000"),
    ("黑龙江", "黑龙江省", "230000"),
    ("上海", "上海市", "310000"),
    ("江苏", "江苏省", "320000"),
    ("浙江", "浙江省", "330000"),
    ("安徽", "安徽省", "340000"),
    ("福建", "福建省", "350000"),
    ("江西", "江西省", "360000"),
    ("山东", "山东省", "370000"),
    ("河南", "河南省", "410000"),
    ("湖北", "湖北省", "420000"),
    ("湖南", "湖南省", "430000"),
    ("广东", "广东省", "440000"),
    ("广西", "广西壮族自治区", "450000"),
    ("海南", "海南省", "460000"),
    ("重庆", "重庆市", "500000"),
    ("四川", "四川省", "510000"),
    ("贵州", "贵州省", "520000"),
    ("云南", "云南省", "530000"),
    ("西藏", "西藏自治区", "540000"),
    ("陕西", "陕西省", "610000"),
    ("甘肃", "甘肃省", "620000"),
    ("青海", "青海省", "630000"),
    ("宁夏", "宁夏回族自治区", "640000"),
    ("新疆", "新疆维吾尔自治区", "650000"),
];

/// (city, province index into PROVINCES, ranking group).
pub const CITIES: &[(&str, usize, &str)] = &[
    ("石家庄", 2, "省会城市"),
    ("唐山", 2, "地市级"),
    ("太原", 3, "省会城市"),
    ("大同", 3, "地市级"),
    ("沈阳", 5, "省会城市"),
    ("大连", 5, "计划单列市"),
    ("长春", 6, "省会城市"),
    ("哈尔滨", 7, "省会城市"),
    ("南京", 9, "省会城市"),
    ("苏州", 9, "地市级"),
    ("无锡", 9, "地市级"),
    ("徐州", 9, "地市级"),
    ("杭州", 10, "省会城市"),
    ("宁波", 10, "计划单列市"),
    ("温州", 10, "地市级"),
    ("合肥", 11, "省会城市"),
    ("芜湖", 11, "地市级"),
    ("福州", 12, "省会城市"),
    ("厦门", 12, "计划单列市"),
    ("泉州", 12, "地市级"),
    ("南昌", 13, "省会城市"),
    ("赣州", 13, "地市级"),
    ("济南", 14, "省会城市"),
    ("青岛", 14, "计划单列市"),
    ("潍坊", 14, "地市级"),
    ("郑州", 15, "省会城市"),
    ("洛阳", 15, "地市级"),
    ("武汉", 16, "省会城市"),
    ("宜昌", 16, "地市级"),
    ("长沙", 17, "省会城市"),
    ("岳阳", 17, "地市级"),
    ("广州", 18, "省会城市"),
    ("深圳", 18, "计划单列市"),
    ("佛山", 18, "地市级"),
    ("东莞", 18, "地市级"),
    ("南宁", 19, "省会城市"),
    ("海口", 20, "省会城市"),
    ("成都", 22, "省会城市"),
    ("绵阳", 22, "地市级"),
    ("贵阳", 23, "省会城市"),
    ("遵义", 23, "地市级"),
    ("昆明", 24, "省会城市"),
    ("西安", 26, "省会城市"),
    ("宝鸡", 26, "地市级"),
    ("兰州", 27, "省会城市"),
    ("西宁", 28, "省会城市"),
    ("银川", 29, "省会城市"),
    ("乌鲁木齐", 30, "省会城市"),
];

/// County-level names; combined with a city they form a synthetic county.
pub const COUNTIES: &[&str] = &[
    "城关", "新城", "高新", "经开", "东湖", "西湖", "南山", "北塘", "江宁", "浦口", "吴中", "萧山",
    "余杭", "鄞州", "龙湾", "瑶海", "鼓楼", "台江", "思明", "湖里", "历下", "市南", "黄岛", "金水",
    "江岸", "洪山", "岳麓", "天河", "越秀", "福田", "宝安", "禅城", "青羊", "武侯", "南明", "五华",
    "雁塔", "碑林", "城东", "城西", "安宁", "兴庆", "天山", "长安", "临安", "桐庐", "淳安", "建德",
    "宜兴", "江阴", "昆山", "常熟", "太仓", "海门", "如皋", "东台", "仪征", "丹阳", "句容", "溧阳",
    "慈溪", "余姚", "瑞安", "乐清", "义乌", "东阳", "永康", "诸暨", "嵊州", "温岭", "临海", "龙泉",
];

/// (ministry full name, short name used as account name, duty keywords).
pub const MINISTRIES: &[(&str, &str, &[&str])] = &[
    ("外交部", "外交部发言人办公室", &["外交"]),
    ("教育部", "微言教育", &["教育"]),
    ("公安部", "公安部网安局", &["公安", "警方"]),
    ("民政部", "民政部", &["民政"]),
    ("司法部", "中国普法", &["司法", "普法", "法治"]),
    ("人力资源和社会保障部", "人社部", &["人社", "就业", "社保"]),
    ("生态环境部", "生态环境部", &["环境", "生态"]),
    ("交通运输部", "中国交通", &["交通"]),
    ("水利部", "水利部", &["水利"]),
    ("农业农村部", "农业农村部", &["农业", "农村"]),
    ("商务部", "商务微新闻", &["商务"]),
    ("文化和旅游部", "文旅之声", &["文旅", "旅游"]),
    ("国家卫生健康委员会", "健康中国", &["卫健", "健康"]),
    ("应急管理部", "中国应急管理", &["应急"]),
    ("国家市场监督管理总局", "市说新语", &["市场监管"]),
    ("国家税务总局", "国家税务总局", &["税务"]),
    ("海关总署", "海关发布", &["海关"]),
    ("国家统计局", "统计微讯", &["统计"]),
    ("国家医疗保障局", "国家医保局", &["医保"]),
    ("中国气象局", "中国气象局", &["气象", "天气"]),
];

/// Post texts of the ordinary kinds, with a `{r}` placeholder for the region or org short name.
/// The prefixes follow the categories evaluators look for (政策文件 / 政策解读 / 回应关切 / 动态).
pub const NEWS_TEXTS: &[&str] = &[
    "【工作动态】{r}召开专题会议，部署近期重点工作",
    "【工作动态】{r}开展安全生产大检查，排查隐患整改到位",
    "【工作动态】{r}举办政务公开日活动，市民走进机关面对面交流",
    "【便民提醒】{r}本周末部分路段施工，请提前规划出行路线",
    "【便民提醒】近期气温下降，{r}提醒大家注意防寒保暖",
    "【工作动态】{r}深入基层开展调研，听取群众意见建议",
    "【权威发布】{r}一季度主要经济指标公布，总体保持平稳",
    "【民生实事】{r}新增一批便民服务点，办事更方便",
];

pub const POLICY_TEXTS: &[&str] = &[
    "【政策文件】{r}关于进一步优化营商环境的若干措施",
    "【政策文件】{r}关于做好2025年就业创业工作的通知",
    "【政策解读】一图读懂{r}稳就业新政",
    "【政策解读】{r}医保新规有哪些变化？权威解答来了",
    "【回应关切】网友反映的小区停车难问题，{r}这样回复",
    "【回应关切】关于近期供水管网改造的情况说明",
];

/// Planted: commercial-ad wording (CNT001).
pub const AD_TEXTS: &[&str] = &[
    "限时抢购！本地特产礼盒仅需99元，点击购买还送优惠券",
    "扫码领取红包，新店开业招商加盟火热进行中",
];

/// Planted: an allow-listed public-service announcement that must not fire CNT001.
pub const PUBLIC_AD_TEXT: &str = "【公益广告】文明出行，从我做起——{r}公益广告展播";

/// Planted: off-duty entertainment content (CNT004).
pub const OFF_TOPIC_TEXTS: &[&str] = &[
    "今日星座运势：双子座桃花运爆棚，快来看看你的运势",
    "明星八卦大揭秘，小编熬夜整理的吃瓜合集",
];

/// Planted: improper wording for human review (CNT005).
pub const IMPROPER_TEXT: &str =
    "【工作动态】{r}召开会议，传达学习某某重要讲话精神（错敏词示例：中华人民共合国）";

/// Planted: a consultation post (INT006) with no follow-up result post.
pub const SURVEY_TEXT: &str = "【意见征集】{r}关于城市公园开放时间调整的意见征集，欢迎留言建议";

pub const COMMENT_TEXTS: &[&str] = &[
    "请问社保卡补办需要带什么材料？",
    "我们小区门口的路灯坏了好几天了，能否尽快维修？",
    "这个政策什么时候开始执行？",
    "点赞！办事效率越来越高了",
    "请问周末可以办理业务吗？",
    "孩子入学的材料在哪里提交？",
];

pub const REPLY_TEXTS: &[&str] = &[
    "您好，补办社保卡需携带本人身份证，可就近到社保服务网点办理。",
    "您好，已转交相关部门处理，预计三个工作日内完成维修，感谢您的反馈。",
    "您好，该政策自下月1日起施行，具体可查看政策原文。",
    "您好，周六上午提供延时服务，欢迎前来办理。",
];

/// Planted: perfunctory boilerplate replies (INT003).
pub const PERFUNCTORY_REPLY: &str = "感谢关注";

/// Planted: an improper comment left visible and elected (INT004).
pub const IMPROPER_COMMENT: &str = "加微信领取兼职刷单日赚500元，私聊";
