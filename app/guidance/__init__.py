"""Guidance library: articles for parents, teachers and pupils in kk/ru/en, written, reviewed and published."""
