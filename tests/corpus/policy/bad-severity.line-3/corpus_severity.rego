package corpus.severity

metadata := {"id": "corpus_severity", "title": "t", "severity": "urgent", "resource_type": "domain", "remediation": "r"}

results contains {"resource_arn": "x", "status": "PASS", "message": "m", "evidence": {}} if { false }
