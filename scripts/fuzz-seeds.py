#!/usr/bin/env python3
"""Rebuilds fuzz/corpus/<target>/ (the libFuzzer seeds) from samples/ and the test fixtures."""
import gzip, json, os, glob, hashlib

F = 'Tests/ThreatSourcesTests/Fixtures'
C = 'fuzz/corpus'


def put(d, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    os.makedirs(f'{C}/{d}', exist_ok=True)
    open(f'{C}/{d}/{name or hashlib.sha1(data).hexdigest()[:16]}', 'wb').write(data)


# ModSecurity v2/v3 and Coraza audit lines: each fixture line, and the shortest and longest sample lines.
for f in ['coraza.log', 'modsec-v2.log', 'modsec-v3-blocking.log', 'modsec-v3-detection.log']:
    for i, l in enumerate(open(f'{F}/waf/{f}', 'rb').read().split(b'\n')):
        if l.strip():
            put('audit-line', l, f'{f[:-4]}-{i + 1}')
lines = sorted((l for l in open('samples/raw/modsec_audit.log', 'rb').read().split(b'\n') if l.strip()), key=len)
for i, l in enumerate(lines[:4] + lines[-1:]):
    put('audit-line', l, f'sample-{i + 1}')
# Access lines: the fixtures whole (ingress and combined) and a few sample lines.
for f in ['access-blocking.log', 'access-combined.log', 'access-detection.log']:
    put('access-line', open(f'{F}/waf/{f}', 'rb').read(), f[:-4])
al = open('samples/raw/access.log', 'rb').read().split(b'\n')
for i in [0, 50, 100, 150]:
    put('access-line', al[i], f'sample-{i + 1}')
# Hubble lines: one per (verdict, protocol, drop reason) shape, a bare flow and the sample's broken line.
seen = set()
last = None
for l in gzip.open('samples/hubble/flows.json.gz', 'rb').read().split(b'\n'):
    if not l.strip():
        continue
    try:
        j = json.loads(l)
    except ValueError:
        put('hubble-line', l, 'broken')
        continue
    f = j.get('flow', j)
    key = (f.get('verdict'), tuple(sorted(f.get('l4', {}).keys())), 'drop_reason_desc' in f)
    if key not in seen:
        seen.add(key)
        put('hubble-line', l, 'flow-%d' % len(seen))
        last = f
put('hubble-line', json.dumps(last), 'bare-flow')
# Prometheus answers (the rate matrix cut to a few points).
for f in sorted(glob.glob('samples/*/flows/*.json') + glob.glob('samples/*/flows/previous/*.json')):
    if f.endswith('.request.json'):
        continue
    data = open(f, 'rb').read()
    if len(data) > 8000:
        j = json.loads(data)
        for s in j['data']['result']:
            s['values'] = s['values'][:5]
        data = json.dumps(j).encode()
    put('prometheus-answer', data)
put('prometheus-answer', '{"status":"error","errorType":"bad_data","error":"parse error"}', 'error')
put('prometheus-answer', '{"status":"success","data":{"resultType":"scalar","result":[1700000000,"NaN"]}}', 'scalar')
# Elasticsearch _msearch answers.
for f in sorted(glob.glob('samples/*/waf/msearch.json') + glob.glob('samples/*/waf/previous/msearch.json')):
    put('msearch-answer', open(f, 'rb').read())
put('msearch-answer', '{"error":{"type":"index_not_found_exception","reason":"no such index"},"status":404}', 'error')
put('msearch-answer', '{"responses":[{"hits":{"total":5}},{"hits":{"total":{"value":2,"relation":"gte"}}}]}', 'es6')
# Policy manifests (YAML streams, API list answers).
for f in sorted(glob.glob('samples/production/policies/*.yaml') + glob.glob('samples/staging/policies/*.json')
                + glob.glob('Tests/Fixtures/policies/*.yaml') + glob.glob('Tests/Fixtures/policies/*.json')):
    if not f.endswith('.request.json'):
        put('policy-yaml', open(f, 'rb').read(), os.path.basename(f))
# Configs.
for f in ['samples/threat-report.yml', 'samples/threat-report-raw.yml']:
    put('config', open(f, 'rb').read(), os.path.basename(f))
