package corpus.duplicate

metadata := {"id": "app_long_running", "title": "t", "severity": "low", "resource_type": "app", "remediation": "r"}

results contains {"resource_arn": "x", "status": "PASS", "message": "m", "evidence": {}} if { false }
