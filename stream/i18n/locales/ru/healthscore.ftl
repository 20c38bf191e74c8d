# healthscore: русский каталог; сообщения, их порядок и параметры те же, что в английском
# (stream/i18n/locales/en/healthscore.ftl, tests/unit/test_catalogs.py). Термины: docs/glossary.md.
#
# Параметры — числа, если не указано иное; доли ($share, $probability, $target) — дроби,
# выводятся как проценты; $nps — текст со знаком («+20»); $band, $rule, $severity, $priority,
# $component — коды, между которыми выбирает селектор.
# Множественное число по CLDR: [one] 1, 21 день; [few] 2, 22 дня; [many] 0, 5, 11, 25 дней;
# *[other] дроби (1,5 дня).

## Статусы, правила и другие названия

band = { $band ->
    [healthy] Здоровый
    [at_risk] В зоне риска
   *[critical] Критический
}
rule = { $rule ->
    [band_drop] понижение статуса
    [sharp_drop] резкое падение индекса
    [detractor] критик
    [urgent_ticket_sla] срочное обращение вне SLA
    [inactivity] неактивность
    [contraction] сокращение выручки
   *[high_risk] высокий риск оттока
}
component = { $component ->
    [usage] Использование
    [support] Поддержка
   *[sentiment] Отзывы
}

## Факторы: что снижает индекс

usage-recency-never = нет активности в продукте с первого появления клиента ({ $days ->
    [one] { $days } день
    [few] { $days } дня
    [many] { $days } дней
   *[other] { $days } дня
} назад)
usage-recency-idle = нет активности в продукте уже { $days ->
    [one] { $days } день
    [few] { $days } дня
    [many] { $days } дней
   *[other] { $days } дня
}
usage-recency-last = последняя активность { $days ->
    [one] { $days } день
    [few] { $days } дня
    [many] { $days } дней
   *[other] { $days } дня
} назад
usage-frequency = { NUMBER($daily, minimumFractionDigits: 1, maximumFractionDigits: 1) } использования в день за последние месяцы (типично для сегмента: { $typical })
usage-trend = активность за последние недели — { NUMBER($share, style: "percent") } от обычного уровня клиента
usage-slow-trend = активность за последний квартал — { NUMBER($share, style: "percent") } от среднего уровня за год
usage-slow-trend-no-year = история активности короче года (учтено нейтрально)
usage-breadth = { $features ->
    [one] использовалась { $features } функция
    [few] использовались { $features } функции
    [many] использовалось { $features } функций
   *[other] использовалось { $features } функции
} за { $days ->
    [1] последний день
    [one] последние { $days } день
    [few] последние { $days } дня
    [many] последние { $days } дней
   *[other] последние { $days } дня
} (цель { $target })
usage-breadth-none = нет данных об использовании функций (учтено нейтрально)
usage-seats = активных лицензий: { $active } из { $licensed } ({ NUMBER($share, style: "percent") }, цель { NUMBER($target, style: "percent") })
usage-seats-none = нет данных о лицензиях (учтено нейтрально)

support-contacts = { $tickets ->
    [one] { $tickets } обращение
    [few] { $tickets } обращения
    [many] { $tickets } обращений
   *[other] { $tickets } обращения
} за { $days ->
    [1] последний день
    [one] последние { $days } день
    [few] последние { $days } дня
    [many] последние { $days } дней
   *[other] последние { $days } дня
}
support-open-tickets = { $tickets ->
    [one] { $tickets } открытое обращение
    [few] { $tickets } открытых обращения
    [many] { $tickets } открытых обращений
   *[other] { $tickets } открытого обращения
}{ $urgent ->
    [0] { $high ->
        [0] {""}
        [one] {" "}({ $high } с высоким приоритетом)
        [few] {" "}({ $high } с высоким приоритетом)
        [many] {" "}({ $high } с высоким приоритетом)
       *[other] {" "}({ $high } с высоким приоритетом)
    }
    [one] { $high ->
        [0] {" "}({ $urgent } срочное)
        [one] {" "}({ $urgent } срочное, { $high } с высоким приоритетом)
        [few] {" "}({ $urgent } срочное, { $high } с высоким приоритетом)
        [many] {" "}({ $urgent } срочное, { $high } с высоким приоритетом)
       *[other] {" "}({ $urgent } срочное, { $high } с высоким приоритетом)
    }
    [few] { $high ->
        [0] {" "}({ $urgent } срочных)
        [one] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
        [few] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
        [many] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
       *[other] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
    }
    [many] { $high ->
        [0] {" "}({ $urgent } срочных)
        [one] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
        [few] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
        [many] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
       *[other] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
    }
   *[other] { $high ->
        [0] {" "}({ $urgent } срочных)
        [one] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
        [few] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
        [many] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
       *[other] {" "}({ $urgent } срочных, { $high } с высоким приоритетом)
    }
}, самое старое открыто { $oldest ->
    [one] { $oldest } день
    [few] { $oldest } дня
    [many] { $oldest } дней
   *[other] { $oldest } дня
}
support-first-response = { $waiting ->
    [0] {""}
    [one] { $waiting } обращение ждёт ответа сверх SLA первого ответа (наивысший приоритет: { $priority ->
        [urgent] срочный
        [high] высокий
        [low] низкий
       *[normal] обычный
    }, { $hours } ч)
    [few] { $waiting } обращения ждут ответа сверх SLA первого ответа (наивысший приоритет: { $priority ->
        [urgent] срочный
        [high] высокий
        [low] низкий
       *[normal] обычный
    }, { $hours } ч)
    [many] { $waiting } обращений ждут ответа сверх SLA первого ответа (наивысший приоритет: { $priority ->
        [urgent] срочный
        [high] высокий
        [low] низкий
       *[normal] обычный
    }, { $hours } ч)
   *[other] { $waiting } обращения ждут ответа сверх SLA первого ответа (наивысший приоритет: { $priority ->
        [urgent] срочный
        [high] высокий
        [low] низкий
       *[normal] обычный
    }, { $hours } ч)
}{ $waiting ->
    [0] {""}
    [one] { $late ->
        [0] {""}
        [one] ;{" "}
        [few] ;{" "}
        [many] ;{" "}
       *[other] ;{" "}
    }
    [few] { $late ->
        [0] {""}
        [one] ;{" "}
        [few] ;{" "}
        [many] ;{" "}
       *[other] ;{" "}
    }
    [many] { $late ->
        [0] {""}
        [one] ;{" "}
        [few] ;{" "}
        [many] ;{" "}
       *[other] ;{" "}
    }
   *[other] { $late ->
        [0] {""}
        [one] ;{" "}
        [few] ;{" "}
        [many] ;{" "}
       *[other] ;{" "}
    }
}{ $late ->
    [0] {""}
    [one] { $late } обращение из { $tickets } за { $days ->
        [1] последний день
        [one] последние { $days } день
        [few] последние { $days } дня
        [many] последние { $days } дней
       *[other] последние { $days } дня
    } получило ответ позже SLA первого ответа
    [few] { $late } обращения из { $tickets } за { $days ->
        [1] последний день
        [one] последние { $days } день
        [few] последние { $days } дня
        [many] последние { $days } дней
       *[other] последние { $days } дня
    } получили ответ позже SLA первого ответа
    [many] { $late } обращений из { $tickets } за { $days ->
        [1] последний день
        [one] последние { $days } день
        [few] последние { $days } дня
        [many] последние { $days } дней
       *[other] последние { $days } дня
    } получили ответ позже SLA первого ответа
   *[other] { $late } обращения из { $tickets } за { $days ->
        [1] последний день
        [one] последние { $days } день
        [few] последние { $days } дня
        [many] последние { $days } дней
       *[other] последние { $days } дня
    } получили ответ позже SLA первого ответа
}
support-reopens = { $reopens ->
    [one] { $reopens } повторное открытие
    [few] { $reopens } повторных открытия
    [many] { $reopens } повторных открытий
   *[other] { $reopens } повторного открытия
} в { $tickets ->
    [one] { $tickets } обращении
    [few] { $tickets } обращениях
    [many] { $tickets } обращениях
   *[other] { $tickets } обращениях
} за { $days ->
    [1] последний день
    [one] последние { $days } день
    [few] последние { $days } дня
    [many] последние { $days } дней
   *[other] последние { $days } дня
}
support-escalations = { $escalations ->
    [one] { $escalations } эскалация
    [few] { $escalations } эскалации
    [many] { $escalations } эскалаций
   *[other] { $escalations } эскалации
} за { $days ->
    [1] последний день
    [one] последние { $days } день
    [few] последние { $days } дня
    [many] последние { $days } дней
   *[other] последние { $days } дня
}
support-resolution-slow = целевое время решения превышено: { $slow } из { $resolved ->
    [one] { $resolved } решённого обращения
    [few] { $resolved } решённых обращений
    [many] { $resolved } решённых обращений
   *[other] { $resolved } решённого обращения
}

sentiment-no-answers = нет ответов на опросы (учтено нейтрально)
sentiment-nps = NPS { $nps }
sentiment-nps-latest = NPS { $nps } (последняя оценка { $latest }/10)
sentiment-csat = CSAT: { NUMBER($share, style: "percent") } довольных (4–5 из 5)
sentiment-ces = CES: { NUMBER($share, style: "percent") } ответов — низкие усилия (5–7 из 7)
sentiment-csm = оценка CSM { $rating }/5 ({ $author }), { $days ->
    [0] сегодня
    [one] { $days } день назад
    [few] { $days } дня назад
    [many] { $days } дней назад
   *[other] { $days } дня назад
}

## Причины оповещений

alert-band-drop = статус понизился: { $was_band ->
    [healthy] здоровый
    [at_risk] в зоне риска
   *[critical] критический
} → { $band ->
    [healthy] здоровый
    [at_risk] в зоне риска
   *[critical] критический
} (индекс { $score }, а за { $days ->
    [1] последний день
    [one] последние { $days } день
    [few] последние { $days } дня
    [many] последние { $days } дней
   *[other] последние { $days } дня
} был { $was })
alert-sharp-drop = индекс упал на { $drop ->
    [one] { $drop } балл
    [few] { $drop } балла
    [many] { $drop } баллов
   *[other] { $drop } балла
} за { $days ->
    [one] { $days } день
    [few] { $days } дня
    [many] { $days } дней
   *[other] { $days } дня
} (с { $was } до { $score })
alert-detractor = последняя оценка NPS — { $latest }/10 (критик)
alert-urgent-ticket-sla = { $tickets ->
    [one] { $tickets } срочное обращение
    [few] { $tickets } срочных обращения
    [many] { $tickets } срочных обращений
   *[other] { $tickets } срочного обращения
} без ответа дольше SLA первого ответа ({ $hours } ч): { $ids }
alert-inactivity-rhythm = нет активности в продукте уже { $days ->
    [one] { $days } день
    [few] { $days } дня
    [many] { $days } дней
   *[other] { $days } дня
}, что необычно для клиента (обычно активен { $every ->
    [1] каждый день
    [one] каждый { $every } день
    [few] каждые { $every } дня
    [many] каждые { $every } дней
   *[other] каждые { $every } дня
})
alert-inactivity-thinning = активен лишь { $active } { $active ->
    [one] день
    [few] дня
    [many] дней
   *[other] дня
} из последних { $days }, хотя обычно около { $usual }
alert-contraction = MRR снизился на { NUMBER($share, style: "percent") } за { $days ->
    [one] { $days } день
    [few] { $days } дня
    [many] { $days } дней
   *[other] { $days } дня
} (с { NUMBER($was) } до { NUMBER($mrr) })
alert-high-risk-calibrated = высокий риск оттока: вероятность оттока { NUMBER($probability, style: "percent") } (индекс { $score }) не менее { $days ->
    [one] { $days } дня
    [few] { $days } дней
    [many] { $days } дней
   *[other] { $days } дня
} подряд
alert-high-risk = высокий риск оттока: индекс { $score }, на уровне { $threshold } или ниже не менее { $days ->
    [one] { $days } дня
    [few] { $days } дней
    [many] { $days } дней
   *[other] { $days } дня
} подряд

## Рекомендуемые шаги (рабочий список; `alerts.next_steps` политики заменяет их)

next-step = { $rule ->
    [urgent_ticket_sla] Сегодня же позвонить клиенту по срочному обращению без ответа вместе с руководителем поддержки; договориться, когда клиент получит ответ.
    [sharp_drop] Выяснить, что изменилось на этой неделе (ушёл чемпион, сбой, новый инструмент); связаться с чемпионом до следующего разговора о продлении.
    [band_drop] Разобрать причины с чемпионом клиента и согласовать одно действие по самой весомой из них.
    [inactivity] Связаться с основными пользователями: предложить короткую сессию, чтобы вернуть их к привычной работе, и спросить, что им мешает.
    [contraction] На этой неделе выяснить у спонсора, почему клиент сократил объём (бюджет, лицензии, конкурент), и договориться, что ему нужно увидеть, чтобы снова расти.
    [high_risk] На этой неделе провести встречу со спонсором о состоянии аккаунта: цели, препятствия и план продления.
    [detractor] Ответить на опрос в течение двух дней: поблагодарить, спросить, что пошло не так, и рассказать, что изменится.
   *[review] Оповещений нет: обсудить использование и планы при следующем контакте; клиент в списке из-за выручки под угрозой.
}

## Уведомления Alertmanager (аннотации, которые показывают шаблоны писем и чатов)

notify-subject = { $customer }: риск оттока ({ $severity ->
    [warning] предупреждение
   *[critical] критично
})
notify-subject-resolved = { $customer }: риск оттока снят
notify-summary = { $customer }: { $band ->
    [healthy] здоровый
    [at_risk] в зоне риска
   *[critical] критический
} (индекс { $score }): { $reason }
notify-reasons = Причины
notify-next-step = Рекомендуемый шаг
notify-open-page = Страница клиента

## Страницы

page-language = Язык
page-not-scored = индекс ещё не рассчитан
page-no-history = истории пока нет
page-trend-described = индекс за { $days ->
    [one] { $days } день
    [few] { $days } дня
    [many] { $days } дней
   *[other] { $days } дня
}: от { $first } ({ $first_day }) до { $last } ({ $last_day })
page-owner = Ответственный
page-show = Показать
page-customer = Клиент
page-score = Индекс
page-band = Статус
page-open-alert = Активное оповещение
page-customers-of = Клиенты: { $owner }
page-all-customers = Все клиенты
page-portfolio-intro = Сначала самые рискованные: критические, затем в зоне риска, затем здоровые; внутри статуса — по возрастанию индекса. Показаны { $first }–{ $last } из { $total }.
page-portfolio-empty = Сначала самые рискованные: критические, затем в зоне риска, затем здоровые; внутри статуса — по возрастанию индекса. Показано 0 из { $total }.
page-previous = Предыдущие { $count }
page-next = Следующие { $count }
page-by-risk = Клиенты по уровню риска
page-last-90-days = Последние 90 дней
page-biggest-drag = Главный фактор снижения
page-worklist = Рабочий список
page-worklist-whose = Чей рабочий список? Клиенты менеджера, которым нужно уделить внимание на этой неделе.
page-portfolio-of = Портфель: { $owner }
page-worklist-of = Рабочий список: { $owner }
page-worklist-intro = Клиенты, которым нужно уделить внимание на этой неделе: сначала { $alerts ->
    [one] { $alerts } клиент с активным оповещением
    [few] { $alerts } клиента с активными оповещениями
    [many] { $alerts } клиентов с активными оповещениями
   *[other] { $alerts } клиента с активными оповещениями
}, затем по убыванию выручки под угрозой (MRR × вероятность оттока; без калибровки — × относительный риск). Показано { $shown } из { $book ->
    [one] { $book } клиента
    [few] { $book } клиентов
    [many] { $book } клиентов
   *[other] { $book } клиента
}.
page-worklist-partial = Учтены не все клиенты: только { $scanned } из { $book } с наибольшим риском.
page-to-act-on = Клиенты, требующие действий
page-revenue-at-risk = Выручка под угрозой
page-why = Причины
page-next-step = Следующий шаг
page-none = нет
page-no-mrr = нет MRR
page-uncalibrated = (без калибровки)
page-uncalibrated-title = MRR × относительный риск: в политике нет калибровки
page-segment = Сегмент
page-unassigned = не назначен
page-unknown = неизвестно
page-confidence = Достоверность
page-as-of = По состоянию на
page-model = Модель
page-why-this-score = Почему такой индекс
page-points = { $points ->
    [one] { $points } балл
    [few] { $points } балла
    [many] { $points } баллов
   *[other] { $points } балла
}
page-components = Компоненты
page-component = Компонент
page-no-open-alert = Активных оповещений нет.
page-no-assessment = Оценки CSM пока нет.
page-alert-open-since = { $severity ->
    [warning] Предупреждение
   *[critical] Критично
}: { $rules }, активно с { $since }
page-last-14-days = Последние 14 дней
page-day = День
page-json = JSON
page-history-json = история в JSON
page-portfolio = Портфель
page-customer-title = { $customer }: здоровье клиента
page-sign-in = Войти
page-wrong-token = Неверный токен.
page-token = Токен доступа
page-sign-in-title = Вход: здоровье клиентов

## CLI (healthscore score)

cli-score-line = { $customer }  индекс { $score }  { $band ->
    [healthy] здоровый
    [at_risk] в зоне риска
   *[critical] критический
}  достоверность { $confidence }  на { $as_of }  модель { $model }
cli-component = компонент
cli-value = значение
cli-impact = влияние
cli-why = причина
cli-drivers = факторы (потерянные баллы, по убыванию)
cli-no-score = для { $customer } ещё нет индекса здоровья
cli-no-redis = не удаётся прочитать Redis: { $error }
notify-revenue = { $amount } ({ $calibrated ->
    [yes] MRR × вероятность оттока
   *[no] MRR × относительный риск, без калибровки
})
notify-revenue-unknown = неизвестно (нет MRR)
