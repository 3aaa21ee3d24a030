"""check and fix over folders: read, model, judge, plan, verify, write."""
