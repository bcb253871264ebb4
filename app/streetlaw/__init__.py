"""Street Law for pupils (issue 11 item 5): a child's rights and what to do, in plain words, kk/ru/en, readable
without an account, installable as a web app that keeps working offline."""
