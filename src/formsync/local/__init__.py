"""The embedded default backend: a folder of CSV worksheets that mirrors the master sheet."""
