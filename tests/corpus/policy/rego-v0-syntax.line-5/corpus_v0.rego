package corpus.v0

metadata := {"id": "corpus_v0", "title": "t", "severity": "low", "resource_type": "domain", "remediation": "r"}

results[r] {
    r := 1
}
