# healthscore: the English catalog, the reference every other catalog follows
# (tests/unit/test_catalogs.py). Terms: docs/glossary.md.
#
# Parameters are numbers unless noted; shares ($share, $probability, $target) are fractions
# written as percentages; $nps is signed text ("+20"); $band, $rule, $severity, $priority,
# $component are codes chosen between by a selector.

## Bands, rules and other names

band = { $band ->
    [healthy] Healthy
    [at_risk] At risk
   *[critical] Critical
}
rule = { $rule ->
    [band_drop] band drop
    [sharp_drop] sharp drop
    [detractor] detractor
    [urgent_ticket_sla] urgent ticket past SLA
    [inactivity] inactivity
    [contraction] revenue contraction
   *[high_risk] high churn risk
}
component = { $component ->
    [usage] Usage
    [support] Support
   *[sentiment] Sentiment
}

## Drivers: what pulls a score down

usage-recency-never = no product activity since first seen { $days ->
    [one] { $days } day
   *[other] { $days } days
} ago
usage-recency-idle = no product activity for { $days ->
    [one] { $days } day
   *[other] { $days } days
}
usage-recency-last = last active { $days ->
    [one] { $days } day
   *[other] { $days } days
} ago
usage-frequency = { NUMBER($daily, minimumFractionDigits: 1, maximumFractionDigits: 1) } uses a day over recent months, against { $typical } typical for the segment
usage-trend = activity lately is { NUMBER($share, style: "percent") } of this customer's usual rate (last weeks)
usage-slow-trend = activity over the last quarter is { NUMBER($share, style: "percent") } of its rate over the year
usage-slow-trend-no-year = no year of activity recorded yet (counted as neutral)
usage-breadth = { $features ->
    [one] { $features } feature
   *[other] { $features } features
} used in the last { $days ->
    [one] { $days } day
   *[other] { $days } days
} (target { $target })
usage-breadth-none = no feature usage reported (counted as neutral)
usage-seats = { $active } of { $licensed } licensed seats active ({ NUMBER($share, style: "percent") }, target { NUMBER($target, style: "percent") })
usage-seats-none = no seat snapshot reported (counted as neutral)

support-contacts = { $tickets ->
    [one] { $tickets } ticket
   *[other] { $tickets } tickets
} opened in the last { $days ->
    [one] { $days } day
   *[other] { $days } days
}
support-open-tickets = { $tickets ->
    [one] { $tickets } open ticket
   *[other] { $tickets } open tickets
}{ $urgent ->
    [0] { $high ->
        [0] {""}
       *[other] {" "}({ $high } high)
    }
   *[other] { $high ->
        [0] {" "}({ $urgent } urgent)
       *[other] {" "}({ $urgent } urgent, { $high } high)
    }
}, oldest open { $oldest ->
    [one] { $oldest } day
   *[other] { $oldest } days
}
support-first-response = { $waiting ->
    [0] {""}
    [one] { $waiting } ticket waiting for a first answer past the first-response SLA (most pressing: { $priority }, { $hours } h)
   *[other] { $waiting } tickets waiting for a first answer past the first-response SLA (most pressing: { $priority }, { $hours } h)
}{ $waiting ->
    [0] {""}
   *[other] { $late ->
        [0] {""}
       *[other] ;{" "}
    }
}{ $late ->
    [0] {""}
   *[other] { $late } of { $tickets } tickets answered later than the first-response SLA in the last { $days ->
        [one] { $days } day
       *[other] { $days } days
    }
}
support-reopens = { $reopens ->
    [one] { $reopens } reopen
   *[other] { $reopens } reopens
} across { $tickets ->
    [one] { $tickets } ticket
   *[other] { $tickets } tickets
} in the last { $days ->
    [one] { $days } day
   *[other] { $days } days
}
support-escalations = { $escalations ->
    [one] { $escalations } escalation
   *[other] { $escalations } escalations
} in the last { $days ->
    [one] { $days } day
   *[other] { $days } days
}
support-resolution-slow = { $slow } of { $resolved ->
    [one] { $resolved } resolved ticket
   *[other] { $resolved } resolved tickets
} took longer than the resolution target

sentiment-no-answers = no survey answers (counted as neutral)
sentiment-nps = NPS { $nps }
sentiment-nps-latest = NPS { $nps } (latest answer { $latest }/10)
sentiment-csat = CSAT { NUMBER($share, style: "percent") } satisfied (4-5 of 5)
sentiment-ces = CES: { NUMBER($share, style: "percent") } of answers say low effort (5-7 of 7)
sentiment-csm = manager's assessment { $rating }/5 ({ $author }), { $days ->
    [0] today
    [one] { $days } day ago
   *[other] { $days } days ago
}

## Alert reasons

alert-band-drop = health fell from { $was_band ->
    [healthy] healthy
    [at_risk] at risk
   *[critical] critical
} to { $band ->
    [healthy] healthy
    [at_risk] at risk
   *[critical] critical
} (score { $score }, was { $was } within { $days ->
    [one] { $days } day
   *[other] { $days } days
})
alert-sharp-drop = score dropped { $drop ->
    [one] { $drop } point
   *[other] { $drop } points
} within { $days ->
    [one] { $days } day
   *[other] { $days } days
} (from { $was } to { $score })
alert-detractor = latest NPS answer was { $latest }/10 (a detractor)
alert-urgent-ticket-sla = { $tickets ->
    [one] { $tickets } urgent ticket
   *[other] { $tickets } urgent tickets
} unanswered past the { $hours } h first-response SLA ({ $ids })
alert-inactivity-rhythm = no product activity for { $days ->
    [one] { $days } day
   *[other] { $days } days
}, unusual for this customer (usually active { $every ->
    [one] every day
   *[other] every { $every } days
})
alert-inactivity-thinning = active on { $active } of the last { $days } days, against about { $usual } usually for this customer
alert-contraction = MRR down { NUMBER($share, style: "percent") } within { $days ->
    [one] { $days } day
   *[other] { $days } days
} (from { NUMBER($was) } to { NUMBER($mrr) })
alert-high-risk-calibrated = high churn risk: { NUMBER($probability, style: "percent") } likely to churn (score { $score }) for { $days ->
    [one] { $days }+ day
   *[other] { $days }+ days
}
alert-high-risk = high churn risk: score { $score }, at or below { $threshold } for { $days ->
    [one] { $days }+ day
   *[other] { $days }+ days
}

## Suggested next steps (the worklist; a policy's `alerts.next_steps` replaces them)

next-step = { $rule ->
    [urgent_ticket_sla] Call today about the unanswered urgent ticket, with the support lead on the line; agree when the customer hears back.
    [sharp_drop] Find out what changed this week (a champion leaving, an outage, a new tool): reach the champion before the next renewal conversation.
    [band_drop] Go through the reasons with the customer's champion and agree one action on the largest of them.
    [inactivity] Reach the main users: offer a short session to get them back to their usual use, and ask whether anything blocks them.
    [contraction] Ask the sponsor this week why they cut back (budget, seats, a competitor) and agree what they need to see to grow again.
    [high_risk] Book a health check with the sponsor this week: goals, blockers, and the renewal plan.
    [detractor] Answer the survey within two days: thank them, ask what went wrong, and say what will change.
   *[review] No alert: review usage and plans at the next touchpoint; the revenue at risk puts the customer on this list.
}

## Alertmanager notifications (annotations the e-mail and chat templates show)

notify-subject = { $customer }: churn risk ({ $severity ->
    [warning] warning
   *[critical] critical
})
notify-subject-resolved = { $customer }: churn risk resolved
notify-summary = { $customer }: { $band ->
    [healthy] healthy
    [at_risk] at risk
   *[critical] critical
} (score { $score }): { $reason }
notify-reasons = Why
notify-next-step = Suggested next step
notify-open-page = Customer page

## Pages

page-language = Language
page-not-scored = not scored yet
page-no-history = no history yet
page-trend-described = score over { $days ->
    [one] { $days } day
   *[other] { $days } days
}, from { $first } on { $first_day } to { $last } on { $last_day }
page-owner = Owner
page-show = Show
page-customer = Customer
page-score = Score
page-band = Band
page-open-alert = Open alert
page-customers-of = Customers of { $owner }
page-all-customers = All customers
page-portfolio-intro = Most at risk first: critical, then at risk, then healthy; lowest score first within a band. Showing { $first }-{ $last } of { $total }.
page-portfolio-empty = Most at risk first: critical, then at risk, then healthy; lowest score first within a band. Showing none of { $total }.
page-previous = Previous { $count }
page-next = Next { $count }
page-by-risk = Customers by risk
page-last-90-days = Last 90 days
page-biggest-drag = Biggest drag
page-worklist = Worklist
page-worklist-whose = Whose worklist? A manager's customers to act on this week.
page-portfolio-of = Portfolio of { $owner }
page-worklist-of = Worklist of { $owner }
page-worklist-intro = This week's customers to act on: { $alerts ->
    [one] the { $alerts } with an open alert
   *[other] the { $alerts } with an open alert
} first, then the highest revenue at risk (MRR x churn probability; x relative risk where uncalibrated), largest first. Showing { $shown } of { $book ->
    [one] { $book } customer
   *[other] { $book } customers
}.
page-worklist-partial = Only the { $scanned } most at risk of { $book } customers were read.
page-to-act-on = Customers to act on
page-revenue-at-risk = Revenue at risk
page-why = Why
page-next-step = Next step
page-none = none
page-no-mrr = no MRR
page-uncalibrated = (uncalibrated)
page-uncalibrated-title = MRR x relative risk: the policy has no calibration
page-segment = Segment
page-unassigned = unassigned
page-unknown = unknown
page-confidence = Confidence
page-as-of = As of
page-model = Model
page-why-this-score = Why this score
page-points = { $points ->
    [one] { $points } point
   *[other] { $points } points
}
page-components = Components
page-component = Component
page-no-open-alert = No open alert.
page-no-assessment = No manager's assessment yet.
page-alert-open-since = { $severity ->
    [warning] Warning
   *[critical] Critical
}: { $rules }, open since { $since }
page-last-14-days = Last 14 days
page-day = Day
page-json = JSON
page-history-json = history as JSON
page-portfolio = Portfolio
page-customer-title = { $customer }: customer health
page-sign-in = Sign in
page-wrong-token = That is not the token.
page-token = The worker's token
page-sign-in-title = Sign in: customer health

## The CLI (healthscore score)

cli-score-line = { $customer }  score { $score }  { $band ->
    [healthy] healthy
    [at_risk] at risk
   *[critical] critical
}  confidence { $confidence }  as of { $as_of }  model { $model }
cli-component = component
cli-value = value
cli-impact = impact
cli-why = why
cli-drivers = drivers (points lost, most first)
cli-no-score = no health score for { $customer } yet
cli-no-redis = cannot read Redis: { $error }
notify-revenue = { $amount } ({ $calibrated ->
    [yes] MRR x churn probability
   *[no] MRR x relative risk, uncalibrated
})
notify-revenue-unknown = unknown (no MRR)
