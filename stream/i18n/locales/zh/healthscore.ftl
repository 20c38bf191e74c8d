# healthscore：简体中文目录；消息、顺序和参数与英文目录一致
# （stream/i18n/locales/en/healthscore.ftl，tests/unit/test_catalogs.py）。术语：docs/glossary.md。
#
# 参数除另有说明外均为数字；比例（$share、$probability、$target）为小数，显示为百分比；
# $nps 为带符号的文本（"+20"）；$band、$rule、$severity、$priority、$component 为代码，由选择器选择。
# 中文没有复数形式：只用 *[other]；英文中用于控制分句是否出现的 [0] 变体保留。

## 健康等级、规则及其他名称

band = { $band ->
    [healthy] 健康
    [at_risk] 有风险
   *[critical] 高危
}
rule = { $rule ->
    [band_drop] 健康等级下降
    [sharp_drop] 健康分骤降
    [detractor] 贬损者
    [urgent_ticket_sla] 紧急工单超出 SLA
    [inactivity] 不活跃
    [contraction] 收入缩减
   *[high_risk] 流失风险高
}
component = { $component ->
    [usage] 产品使用
    [support] 客户支持
   *[sentiment] 客户反馈
}

## 影响因素：拉低健康分的原因

usage-recency-never = 自首次出现（{ $days }天前）以来无产品活动
usage-recency-idle = 已{ $days }天无产品活动
usage-recency-last = 最近一次活跃于{ $days }天前
usage-frequency = 近几个月日均使用{ NUMBER($daily, minimumFractionDigits: 1, maximumFractionDigits: 1) }次，同细分客户通常为{ $typical }次
usage-trend = 近几周活跃度为该客户平时水平的{ NUMBER($share, style: "percent") }
usage-slow-trend = 近一个季度活跃度为全年水平的{ NUMBER($share, style: "percent") }
usage-slow-trend-no-year = 活动记录尚不满一年（按中性计）
usage-breadth = 最近{ $days }天使用了{ $features }个功能（目标{ $target }个）
usage-breadth-none = 未上报功能使用数据（按中性计）
usage-seats = 授权席位{ $licensed }个，活跃{ $active }个（{ NUMBER($share, style: "percent") }，目标{ NUMBER($target, style: "percent") }）
usage-seats-none = 未上报席位数据（按中性计）

support-contacts = 最近{ $days }天新建工单{ $tickets }个
support-open-tickets = 未关闭工单{ $tickets }个{ $urgent ->
    [0] { $high ->
        [0] {""}
       *[other] （高优先级{ $high }个）
    }
   *[other] { $high ->
        [0] （紧急{ $urgent }个）
       *[other] （紧急{ $urgent }个，高优先级{ $high }个）
    }
}，最早的已开启{ $oldest }天
support-first-response = { $waiting ->
    [0] {""}
   *[other] { $waiting }个工单超出首次响应 SLA 仍未获首次回复（最高优先级：{ $priority ->
        [urgent] 紧急
        [high] 高
        [low] 低
       *[normal] 普通
    }，{ $hours }小时）
}{ $waiting ->
    [0] {""}
   *[other] { $late ->
        [0] {""}
       *[other] ；
    }
}{ $late ->
    [0] {""}
   *[other] 最近{ $days }天的{ $tickets }个工单中有{ $late }个首次回复晚于首次响应 SLA
}
support-reopens = 最近{ $days }天内{ $tickets }个工单共重新打开{ $reopens }次
support-escalations = 最近{ $days }天升级{ $escalations }次
support-resolution-slow = { $resolved }个已解决工单中有{ $slow }个超出解决时长目标

sentiment-no-answers = 暂无调研答复（按中性计）
sentiment-nps = NPS { $nps }
sentiment-nps-latest = NPS { $nps }（最近一次评分{ $latest }/10）
sentiment-csat = CSAT：{ NUMBER($share, style: "percent") }满意（5分制中4–5分）
sentiment-ces = CES：{ NUMBER($share, style: "percent") }的答复认为省力（7分制中5–7分）
sentiment-csm = 客户成功经理评估{ $rating }/5（{ $author }，{ $days ->
    [0] 今天
   *[other] { $days }天前
}）

## 告警原因

alert-band-drop = 健康等级从“{ $was_band ->
    [healthy] 健康
    [at_risk] 有风险
   *[critical] 高危
}”降至“{ $band ->
    [healthy] 健康
    [at_risk] 有风险
   *[critical] 高危
}”（当前{ $score }分，{ $days }天内曾为{ $was }分）
alert-sharp-drop = 健康分在{ $days }天内下降{ $drop }分（从{ $was }降至{ $score }）
alert-detractor = 最近一次 NPS 评分为{ $latest }/10（贬损者）
alert-urgent-ticket-sla = { $tickets }个紧急工单超出{ $hours }小时首次响应 SLA 仍未回复（{ $ids }）
alert-inactivity-rhythm = 已{ $days }天无产品活动，对该客户而言不寻常（通常{ $every ->
    [1] 每天都活跃
   *[other] 每{ $every }天活跃一次
}）
alert-inactivity-thinning = 最近{ $days }天中仅{ $active }天活跃，而该客户通常约{ $usual }天
alert-contraction = MRR 在{ $days }天内下降{ NUMBER($share, style: "percent") }（从{ NUMBER($was) }降至{ NUMBER($mrr) }）
alert-high-risk-calibrated = 流失风险高：流失概率{ NUMBER($probability, style: "percent") }（{ $score }分），已持续{ $days }天以上
alert-high-risk = 流失风险高：{ $score }分，已连续{ $days }天以上不高于{ $threshold }分

## 建议的下一步（工作清单；策略中的 `alerts.next_steps` 会替换这些内容）

next-step = { $rule ->
    [urgent_ticket_sla] 今天就未回复的紧急工单致电客户，请支持负责人一同参加；约定给客户答复的时间。
    [sharp_drop] 查明本周发生了什么变化（内部支持者离职、服务中断、换用新工具）；在下次续约沟通前联系内部支持者。
    [band_drop] 与客户的内部支持者逐一梳理原因，并针对影响最大的一项商定一个行动。
    [inactivity] 联系主要用户：提供一次简短的培训，帮助他们恢复日常使用，并了解是否有障碍。
    [contraction] 本周向客户发起人了解缩减的原因（预算、席位、竞争对手），并商定客户需要看到什么才会重新扩展。
    [high_risk] 本周与高层发起人进行一次健康检查：目标、障碍和续约计划。
    [detractor] 两天内回复调研：表示感谢，了解问题所在，并说明将做出哪些改进。
   *[review] 无告警：下次接触时回顾使用情况和计划；因风险收入较高而列入本清单。
}

## Alertmanager 通知（邮件和聊天模板显示的注解）

notify-subject = { $customer }：流失风险（{ $severity ->
    [warning] 警告
   *[critical] 严重
}）
notify-subject-resolved = { $customer }：流失风险已解除
notify-summary = { $customer }：{ $band ->
    [healthy] 健康
    [at_risk] 有风险
   *[critical] 高危
}（{ $score }分）：{ $reason }
notify-reasons = 原因
notify-next-step = 建议的下一步
notify-open-page = 客户页面

## 页面

page-language = 语言
page-not-scored = 尚未评分
page-no-history = 暂无历史记录
page-trend-described = 最近{ $days }天的健康分：从{ $first }（{ $first_day }）到{ $last }（{ $last_day }）
page-owner = 负责人
page-show = 显示
page-customer = 客户
page-score = 健康分
page-band = 健康等级
page-open-alert = 未关闭告警
page-customers-of = { $owner }的客户
page-all-customers = 全部客户
page-portfolio-intro = 风险最高的排在最前：先高危，再有风险，最后健康；同一等级内按健康分从低到高。显示第{ $first }–{ $last }个，共{ $total }个。
page-portfolio-empty = 风险最高的排在最前：先高危，再有风险，最后健康；同一等级内按健康分从低到高。共{ $total }个，当前无显示。
page-previous = 上{ $count }个
page-next = 下{ $count }个
page-by-risk = 按风险排序的客户
page-last-90-days = 最近90天
page-biggest-drag = 最大拖累因素
page-worklist = 工作清单
page-worklist-whose = 谁的工作清单？某位经理本周需要跟进的客户。
page-portfolio-of = { $owner }的客户组合
page-worklist-of = { $owner }的工作清单
page-worklist-intro = 本周需要跟进的客户：先列出有未关闭告警的{ $alerts }个，再按风险收入（MRR × 流失概率；未校准时为 × 相对风险）从高到低排列。显示{ $shown }个，共{ $book }个客户。
page-worklist-partial = 仅读取了{ $book }个客户中风险最高的{ $scanned }个。
page-to-act-on = 待跟进客户
page-revenue-at-risk = 风险收入
page-why = 原因
page-next-step = 下一步
page-none = 无
page-no-mrr = 无 MRR
page-uncalibrated = （未校准）
page-uncalibrated-title = MRR × 相对风险：该策略未做校准
page-segment = 细分
page-unassigned = 未分配
page-unknown = 未知
page-confidence = 置信度
page-as-of = 截至
page-model = 模型
page-why-this-score = 评分依据
page-points = { $points }分
page-components = 组成部分
page-component = 组成部分
page-no-open-alert = 无未关闭告警。
page-no-assessment = 暂无客户成功经理评估。
page-alert-open-since = { $severity ->
    [warning] 警告
   *[critical] 严重
}：{ $rules }，自{ $since }起未关闭
page-last-14-days = 最近14天
page-day = 日期
page-json = JSON
page-history-json = 历史数据（JSON）
page-portfolio = 客户组合
page-customer-title = { $customer }：客户健康度
page-sign-in = 登录
page-wrong-token = 令牌不正确。
page-token = 访问令牌
page-sign-in-title = 登录：客户健康度

## 命令行（healthscore score）

cli-score-line = { $customer }  健康分 { $score }  { $band ->
    [healthy] 健康
    [at_risk] 有风险
   *[critical] 高危
}  置信度 { $confidence }  截至 { $as_of }  模型 { $model }
cli-component = 组成部分
cli-value = 值
cli-impact = 影响
cli-why = 原因
cli-drivers = 影响因素（扣分，从多到少）
cli-no-score = { $customer }尚无健康分
cli-no-redis = 无法读取 Redis：{ $error }
notify-revenue = { $amount }（{ $calibrated ->
    [yes] MRR × 流失概率
   *[no] MRR × 相对风险，未校准
}）
notify-revenue-unknown = 未知（无 MRR）
