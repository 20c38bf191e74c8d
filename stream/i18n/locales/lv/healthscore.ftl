# healthscore: latviešu katalogs; ziņojumi, to secība un parametri ir tādi paši kā angļu katalogā
# (stream/i18n/locales/en/healthscore.ftl, tests/unit/test_catalogs.py). Termini: docs/glossary.md.
#
# Parametri ir skaitļi, ja nav norādīts citādi; daļas ($share, $probability, $target) ir
# decimāldaļas, ko raksta procentos; $nps ir teksts ar zīmi ("+20"); $band, $rule, $severity,
# $priority, $component ir kodi, starp kuriem izvēlas selektors.
# Daudzskaitlis pēc CLDR: [zero] 0, 10, 11–19, 20 dienu; [one] 1, 21 diena; *[other] 2, 22 dienas.

## Statusi, noteikumi un citi nosaukumi

band = { $band ->
    [healthy] Vesels
    [at_risk] Riska zonā
   *[critical] Kritisks
}
rule = { $rule ->
    [band_drop] statusa pazemināšanās
    [sharp_drop] straujš rādītāja kritums
    [detractor] kritiķis
    [urgent_ticket_sla] steidzams pieteikums pāri SLA
    [inactivity] neaktivitāte
    [contraction] ieņēmumu samazinājums
   *[high_risk] augsts aizplūšanas risks
}
component = { $component ->
    [usage] Lietojums
    [support] Atbalsts
   *[sentiment] Atsauksmes
}

## Faktori: kas pazemina rādītāju

usage-recency-never = produktā nav aktivitātes kopš klienta pirmās parādīšanās pirms { $days ->
    [zero] { $days } dienām
    [one] { $days } dienas
   *[other] { $days } dienām
}
usage-recency-idle = produktā nav aktivitātes jau { $days ->
    [zero] { $days } dienu
    [one] { $days } dienu
   *[other] { $days } dienas
}
usage-recency-last = pēdējā aktivitāte pirms { $days ->
    [zero] { $days } dienām
    [one] { $days } dienas
   *[other] { $days } dienām
}
usage-frequency = lietojumi dienā pēdējos mēnešos: { NUMBER($daily, minimumFractionDigits: 1, maximumFractionDigits: 1) } (segmentā parasti { $typical })
usage-trend = aktivitāte pēdējās nedēļās: { NUMBER($share, style: "percent") } no klientam ierastā līmeņa
usage-slow-trend = aktivitāte pēdējā ceturksnī: { NUMBER($share, style: "percent") } no gada vidējā līmeņa
usage-slow-trend-no-year = aktivitātes vēsture īsāka par gadu (vērtēts neitrāli)
usage-breadth = { $features ->
    [zero] { $features } izmantotu funkciju
    [one] { $features } izmantota funkcija
   *[other] { $features } izmantotas funkcijas
} { $days ->
    [zero] pēdējo { $days } dienu
    [one] pēdējās { $days } dienas
   *[other] pēdējo { $days } dienu
} laikā (mērķis { $target })
usage-breadth-none = nav datu par funkciju lietojumu (vērtēts neitrāli)
usage-seats = aktīvas licences: { $active } no { $licensed } ({ NUMBER($share, style: "percent") }, mērķis { NUMBER($target, style: "percent") })
usage-seats-none = nav datu par licencēm (vērtēts neitrāli)

support-contacts = { $tickets ->
    [zero] { $tickets } jaunu pieteikumu
    [one] { $tickets } jauns pieteikums
   *[other] { $tickets } jauni pieteikumi
} { $days ->
    [zero] pēdējo { $days } dienu
    [one] pēdējās { $days } dienas
   *[other] pēdējo { $days } dienu
} laikā
support-open-tickets = { $tickets ->
    [zero] { $tickets } atvērtu pieteikumu
    [one] { $tickets } atvērts pieteikums
   *[other] { $tickets } atvērti pieteikumi
}{ $urgent ->
    [0] { $high ->
        [0] {""}
        [zero] {" "}({ $high } ar augstu prioritāti)
        [one] {" "}({ $high } ar augstu prioritāti)
       *[other] {" "}({ $high } ar augstu prioritāti)
    }
    [zero] { $high ->
        [0] {" "}({ $urgent } steidzamu)
        [zero] {" "}({ $urgent } steidzamu, { $high } ar augstu prioritāti)
        [one] {" "}({ $urgent } steidzamu, { $high } ar augstu prioritāti)
       *[other] {" "}({ $urgent } steidzamu, { $high } ar augstu prioritāti)
    }
    [one] { $high ->
        [0] {" "}({ $urgent } steidzams)
        [zero] {" "}({ $urgent } steidzams, { $high } ar augstu prioritāti)
        [one] {" "}({ $urgent } steidzams, { $high } ar augstu prioritāti)
       *[other] {" "}({ $urgent } steidzams, { $high } ar augstu prioritāti)
    }
   *[other] { $high ->
        [0] {" "}({ $urgent } steidzami)
        [zero] {" "}({ $urgent } steidzami, { $high } ar augstu prioritāti)
        [one] {" "}({ $urgent } steidzami, { $high } ar augstu prioritāti)
       *[other] {" "}({ $urgent } steidzami, { $high } ar augstu prioritāti)
    }
}, vecākais atvērts jau { $oldest ->
    [zero] { $oldest } dienu
    [one] { $oldest } dienu
   *[other] { $oldest } dienas
}
support-first-response = { $waiting ->
    [0] {""}
    [zero] { $waiting } pieteikumu gaida atbildi ilgāk par pirmās atbildes SLA (augstākā prioritāte: { $priority ->
        [urgent] steidzama
        [high] augsta
        [low] zema
       *[normal] parasta
    }, { $hours } h)
    [one] { $waiting } pieteikums gaida atbildi ilgāk par pirmās atbildes SLA (augstākā prioritāte: { $priority ->
        [urgent] steidzama
        [high] augsta
        [low] zema
       *[normal] parasta
    }, { $hours } h)
   *[other] { $waiting } pieteikumi gaida atbildi ilgāk par pirmās atbildes SLA (augstākā prioritāte: { $priority ->
        [urgent] steidzama
        [high] augsta
        [low] zema
       *[normal] parasta
    }, { $hours } h)
}{ $waiting ->
    [0] {""}
    [zero] { $late ->
        [0] {""}
        [zero] ;{" "}
        [one] ;{" "}
       *[other] ;{" "}
    }
    [one] { $late ->
        [0] {""}
        [zero] ;{" "}
        [one] ;{" "}
       *[other] ;{" "}
    }
   *[other] { $late ->
        [0] {""}
        [zero] ;{" "}
        [one] ;{" "}
       *[other] ;{" "}
    }
}{ $late ->
    [0] {""}
    [zero] { $late } no { $tickets ->
        [zero] { $tickets } pieteikumiem
        [one] { $tickets } pieteikuma
       *[other] { $tickets } pieteikumiem
    } { $days ->
        [zero] pēdējo { $days } dienu
        [one] pēdējās { $days } dienas
       *[other] pēdējo { $days } dienu
    } laikā saņēma atbildi vēlāk par pirmās atbildes SLA
    [one] { $late } no { $tickets ->
        [zero] { $tickets } pieteikumiem
        [one] { $tickets } pieteikuma
       *[other] { $tickets } pieteikumiem
    } { $days ->
        [zero] pēdējo { $days } dienu
        [one] pēdējās { $days } dienas
       *[other] pēdējo { $days } dienu
    } laikā saņēma atbildi vēlāk par pirmās atbildes SLA
   *[other] { $late } no { $tickets ->
        [zero] { $tickets } pieteikumiem
        [one] { $tickets } pieteikuma
       *[other] { $tickets } pieteikumiem
    } { $days ->
        [zero] pēdējo { $days } dienu
        [one] pēdējās { $days } dienas
       *[other] pēdējo { $days } dienu
    } laikā saņēma atbildi vēlāk par pirmās atbildes SLA
}
support-reopens = { $reopens ->
    [zero] { $reopens } atkārtotu atvēršanu
    [one] { $reopens } atkārtota atvēršana
   *[other] { $reopens } atkārtotas atvēršanas
} { $tickets ->
    [zero] { $tickets } pieteikumos
    [one] { $tickets } pieteikumā
   *[other] { $tickets } pieteikumos
} { $days ->
    [zero] pēdējo { $days } dienu
    [one] pēdējās { $days } dienas
   *[other] pēdējo { $days } dienu
} laikā
support-escalations = { $escalations ->
    [zero] { $escalations } eskalāciju
    [one] { $escalations } eskalācija
   *[other] { $escalations } eskalācijas
} { $days ->
    [zero] pēdējo { $days } dienu
    [one] pēdējās { $days } dienas
   *[other] pēdējo { $days } dienu
} laikā
support-resolution-slow = atrisināšanas mērķis pārsniegts: { $slow } no { $resolved ->
    [zero] { $resolved } atrisinātajiem pieteikumiem
    [one] { $resolved } atrisinātā pieteikuma
   *[other] { $resolved } atrisinātajiem pieteikumiem
}

sentiment-no-answers = nav atbilžu uz aptaujām (vērtēts neitrāli)
sentiment-nps = NPS { $nps }
sentiment-nps-latest = NPS { $nps } (pēdējā atbilde { $latest }/10)
sentiment-csat = CSAT: { NUMBER($share, style: "percent") } apmierināti (4–5 no 5)
sentiment-ces = CES: { NUMBER($share, style: "percent") } atbilžu — neliela piepūle (5–7 no 7)
sentiment-csm = CSM vērtējums { $rating }/5 ({ $author }), { $days ->
    [0] šodien
    [zero] pirms { $days } dienām
    [one] pirms { $days } dienas
   *[other] pirms { $days } dienām
}

## Brīdinājumu iemesli

alert-band-drop = statuss pasliktinājās: { $was_band ->
    [healthy] vesels
    [at_risk] riska zonā
   *[critical] kritisks
} → { $band ->
    [healthy] vesels
    [at_risk] riska zonā
   *[critical] kritisks
} (rādītājs { $score }, { $days ->
    [zero] pēdējo { $days } dienu
    [one] pēdējās { $days } dienas
   *[other] pēdējo { $days } dienu
} laikā bija { $was })
alert-sharp-drop = rādītājs { $days ->
    [zero] { $days } dienu
    [one] { $days } dienas
   *[other] { $days } dienu
} laikā samazinājās par { $drop ->
    [zero] { $drop } punktiem
    [one] { $drop } punktu
   *[other] { $drop } punktiem
} (no { $was } līdz { $score })
alert-detractor = pēdējā NPS atbilde: { $latest }/10 (kritiķis)
alert-urgent-ticket-sla = { $tickets ->
    [zero] { $tickets } steidzamu pieteikumu
    [one] { $tickets } steidzams pieteikums
   *[other] { $tickets } steidzami pieteikumi
} bez atbildes ilgāk par pirmās atbildes SLA ({ $hours } h): { $ids }
alert-inactivity-rhythm = produktā nav aktivitātes jau { $days ->
    [zero] { $days } dienu
    [one] { $days } dienu
   *[other] { $days } dienas
}, kas šim klientam nav raksturīgi (parasti aktīvs { $every ->
    [1] katru dienu
    [zero] ik pēc { $every } dienām
    [one] ik pēc { $every } dienas
   *[other] ik pēc { $every } dienām
})
alert-inactivity-thinning = aktīvs tikai { $active } { $active ->
    [zero] dienu
    [one] dienu
   *[other] dienas
} no pēdējām { $days }, lai gan parasti apmēram { $usual }
alert-contraction = MRR { $days ->
    [zero] { $days } dienu
    [one] { $days } dienas
   *[other] { $days } dienu
} laikā samazinājās par { NUMBER($share, style: "percent") } (no { NUMBER($was) } līdz { NUMBER($mrr) })
alert-high-risk-calibrated = augsts aizplūšanas risks: aizplūšanas varbūtība { NUMBER($probability, style: "percent") } (rādītājs { $score }) jau vismaz { $days ->
    [zero] { $days } dienu
    [one] { $days } dienu
   *[other] { $days } dienas
}
alert-high-risk = augsts aizplūšanas risks: rādītājs { $score }, ne augstāks par { $threshold } jau vismaz { $days ->
    [zero] { $days } dienu
    [one] { $days } dienu
   *[other] { $days } dienas
}

## Ieteicamie nākamie soļi (darba saraksts; politikas `alerts.next_steps` tos aizstāj)

next-step = { $rule ->
    [urgent_ticket_sla] Vēl šodien piezvanīt klientam par neatbildēto steidzamo pieteikumu kopā ar atbalsta vadītāju; vienoties, kad klients saņems atbildi.
    [sharp_drop] Noskaidrot, kas šonedēļ mainījies (aizgājis galvenais atbalstītājs, darbības traucējumi, jauns rīks); sazināties ar galveno atbalstītāju pirms nākamās sarunas par līguma atjaunošanu.
    [band_drop] Pārrunāt iemeslus ar klienta galveno atbalstītāju un vienoties par vienu darbību attiecībā uz būtiskāko no tiem.
    [inactivity] Sazināties ar galvenajiem lietotājiem: piedāvāt īsu sesiju, lai atgrieztos pie ierastā lietojuma, un noskaidrot, vai kas netraucē.
    [contraction] Šonedēļ noskaidrot pie sponsora, kāpēc klients samazināja apjomu (budžets, licences, konkurents), un vienoties, kas tam jāredz, lai atkal augtu.
    [high_risk] Šonedēļ norunāt ar sponsoru sadarbības veselības pārskatu: mērķi, šķēršļi un līguma atjaunošanas plāns.
    [detractor] Divu dienu laikā atbildēt uz aptauju: pateikties, noskaidrot, kas nogāja greizi, un pastāstīt, kas mainīsies.
   *[review] Brīdinājumu nav: nākamajā saziņā pārskatīt lietojumu un plānus; klients ir sarakstā apdraudēto ieņēmumu dēļ.
}

## Alertmanager paziņojumi (anotācijas, ko rāda e-pasta un tērzēšanas veidnes)

notify-subject = { $customer }: aizplūšanas risks ({ $severity ->
    [warning] brīdinājums
   *[critical] kritisks
})
notify-subject-resolved = { $customer }: aizplūšanas risks novērsts
notify-summary = { $customer }: { $band ->
    [healthy] vesels
    [at_risk] riska zonā
   *[critical] kritisks
} (rādītājs { $score }): { $reason }
notify-reasons = Iemesli
notify-next-step = Ieteicamais nākamais solis
notify-open-page = Klienta lapa

## Lapas

page-language = Valoda
page-not-scored = vēl nav novērtēts
page-no-history = vēstures vēl nav
page-trend-described = rādītājs { $days ->
    [zero] { $days } dienu
    [one] { $days } dienas
   *[other] { $days } dienu
} laikā: no { $first } ({ $first_day }) līdz { $last } ({ $last_day })
page-owner = Atbildīgais
page-show = Rādīt
page-customer = Klients
page-score = Rādītājs
page-band = Statuss
page-open-alert = Aktīvs brīdinājums
page-customers-of = Klienti: { $owner }
page-all-customers = Visi klienti
page-portfolio-intro = Vispirms lielākais risks: kritiskie, tad riska zonā, tad veselie; viena statusa ietvaros — no zemākā rādītāja. Parādīti { $first }–{ $last } no { $total }.
page-portfolio-empty = Vispirms lielākais risks: kritiskie, tad riska zonā, tad veselie; viena statusa ietvaros — no zemākā rādītāja. Parādīti 0 no { $total }.
page-previous = Iepriekšējie { $count }
page-next = Nākamie { $count }
page-by-risk = Klienti pēc riska
page-last-90-days = Pēdējās 90 dienas
page-biggest-drag = Galvenais negatīvais faktors
page-worklist = Darba saraksts
page-worklist-whose = Kura darba saraksts? Vadītāja klienti, kam šonedēļ jāpievērš uzmanība.
page-portfolio-of = Portfelis: { $owner }
page-worklist-of = Darba saraksts: { $owner }
page-worklist-intro = Klienti, kam šonedēļ jāpievērš uzmanība: vispirms { $alerts ->
    [zero] { $alerts } ar aktīviem brīdinājumiem
    [one] { $alerts } ar aktīvu brīdinājumu
   *[other] { $alerts } ar aktīviem brīdinājumiem
}, tad pēc apdraudētajiem ieņēmumiem (MRR × aizplūšanas varbūtība; bez kalibrēšanas — × relatīvais risks), sākot ar lielākajiem. Rāda { $shown } no { $book ->
    [zero] { $book } klientiem
    [one] { $book } klienta
   *[other] { $book } klientiem
}.
page-worklist-partial = Ņemti vērā ne visi klienti: tikai { $scanned } ar lielāko risku no { $book }.
page-to-act-on = Klienti, kam nepieciešama rīcība
page-revenue-at-risk = Apdraudētie ieņēmumi
page-why = Iemesli
page-next-step = Nākamais solis
page-none = nav
page-no-mrr = nav MRR
page-uncalibrated = (nekalibrēts)
page-uncalibrated-title = MRR × relatīvais risks: politikā nav kalibrēšanas
page-segment = Segments
page-unassigned = nav piešķirts
page-unknown = nav zināms
page-confidence = Ticamība
page-as-of = Stāvoklis uz
page-model = Modelis
page-why-this-score = Kāpēc šāds rādītājs
page-points = { $points ->
    [zero] { $points } punktu
    [one] { $points } punkts
   *[other] { $points } punkti
}
page-components = Komponentes
page-component = Komponente
page-no-open-alert = Aktīvu brīdinājumu nav.
page-no-assessment = CSM vērtējuma vēl nav.
page-alert-open-since = { $severity ->
    [warning] Brīdinājums
   *[critical] Kritisks
}: { $rules }, aktīvs kopš { $since }
page-last-14-days = Pēdējās 14 dienas
page-day = Diena
page-json = JSON
page-history-json = vēsture JSON formātā
page-portfolio = Portfelis
page-customer-title = { $customer }: klienta veselība
page-sign-in = Pieteikties
page-wrong-token = Nepareizs marķieris.
page-token = Piekļuves marķieris
page-sign-in-title = Pieteikšanās: klientu veselība

## Komandrinda (healthscore score)

cli-score-line = { $customer }  rādītājs { $score }  { $band ->
    [healthy] vesels
    [at_risk] riska zonā
   *[critical] kritisks
}  ticamība { $confidence }  uz { $as_of }  modelis { $model }
cli-component = komponente
cli-value = vērtība
cli-impact = ietekme
cli-why = iemesls
cli-drivers = faktori (zaudētie punkti, lielākie vispirms)
cli-no-score = klientam { $customer } vēl nav veselības rādītāja
cli-no-redis = nevar nolasīt Redis: { $error }
notify-revenue = { $amount } ({ $calibrated ->
    [yes] MRR × aizplūšanas varbūtība
   *[no] MRR × relatīvais risks, nekalibrēts
})
notify-revenue-unknown = nav zināms (nav MRR)
