#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks a Grafana dashboard of deploy/: its structure (a datasource
variable every panel and query goes through, a grid position and queries
for every panel) and that each metric a query names is one an agent
really exports (its /metrics text, # TYPE lines) and docs/metrics.md
documents. Prints one line per problem; exits 1 when there is one.
Usage: dashboard_check.py DASHBOARD.json METRICS.txt METRICS.md"""
import json
import re
import sys

DS = '${datasource}'
METRIC = re.compile(r'\bedgeshift_[a-z0-9_]+')


def exported(text):
    names = set()
    for line in text.splitlines():
        p = line.split()
        if len(p) >= 3 and p[0] == '#' and p[1] == 'TYPE':
            names.add(p[2])
    return names


def base(name, names):
    """A histogram's series (_bucket, _sum, _count) belong to its name."""
    for sfx in ('_bucket', '_sum', '_count'):
        if name.endswith(sfx) and name[:-len(sfx)] in names:
            return name[:-len(sfx)]
    return name


def check(dash, names, doc):
    problems = []
    var = [v for v in dash.get('templating', {}).get('list', [])
           if v.get('type') == 'datasource' and v.get('query') == 'prometheus']
    if len(var) != 1 or var[0].get('name') != 'datasource':
        problems.append('no Prometheus datasource variable named datasource')
    exprs = [v['definition'] for v in dash['templating']['list'] if v.get('definition')]
    panels = [p for p in dash.get('panels', []) if p.get('type') != 'row']
    if not panels:
        problems.append('no panels')
    for p in panels:
        where = 'panel %r' % p.get('title')
        if p.get('datasource', {}).get('uid') != DS:
            problems.append(where + ': datasource is not ' + DS)
        if not {'h', 'w', 'x', 'y'} <= set(p.get('gridPos', {})):
            problems.append(where + ': no gridPos')
        if not p.get('targets'):
            problems.append(where + ': no queries')
        for t in p.get('targets', []):
            if t.get('datasource', {}).get('uid') != DS:
                problems.append(where + ': a query bypasses ' + DS)
            if not t.get('expr'):
                problems.append(where + ': an empty query')
            exprs.append(t.get('expr', ''))
    for e in exprs:
        for m in sorted(set(METRIC.findall(e))):
            if base(m, names) not in names:
                problems.append('%s: not exported by the agent (%s)' % (m, e))
            if '`%s`' % base(m, names) not in doc:
                problems.append('%s: not in docs/metrics.md' % m)
    return problems


def main():
    with open(sys.argv[1]) as f:
        dash = json.load(f)
    with open(sys.argv[2]) as f:
        names = exported(f.read())
    with open(sys.argv[3]) as f:
        doc = f.read()
    problems = check(dash, names, doc)
    for p in problems:
        print(p)
    return 1 if problems else 0


sys.exit(main())
