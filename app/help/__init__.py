"""Help for pupils: the directory of help lines and services (150, 111, 112 and each region's), and "ask for
help", a pupil's message to the school psychologist that arrives as an alert."""
