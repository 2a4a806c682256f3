"""English date formats with the time zone: every time the portal shows says which zone it is in
(the admin's lists and forms included), since reps and ops may sit in other zones."""

DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
