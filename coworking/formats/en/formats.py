"""English as the community writes it: day before month and the 24-hour clock, as on the
rest of the site ("Sunday 6 December", "18:30"), not Django's US defaults ("Dec. 6, 2026,
6:30 p.m."). Only what differs from Django's English formats is here."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
