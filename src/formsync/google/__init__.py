"""Google plumbing shared by the Sheets, Calendar and Gmail adapters: credentials and HTTP."""
