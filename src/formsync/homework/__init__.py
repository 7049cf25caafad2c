"""Homework: a second Form's submissions, the Homework matrix and the term report."""
