package corpus.noresults

metadata := {"id": "corpus_noresults", "title": "t", "severity": "low", "resource_type": "domain", "remediation": "r"}
