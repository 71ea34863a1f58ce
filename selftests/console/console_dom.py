#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Reads the DOM chromium --dump-dom printed of the console's page (stdin)
and prints what the test asserts on as JSON: the node table's rows (id,
role, name text, each figure's raw data-v, where the figures came from),
the line saying so, the charts (points handed
to uPlot, pixels painted in a series colour), the sessions table, and
every element that is not the page's own (an injected <img>)."""
import html.parser
import json
import sys

PAGE_TAGS = {'html', 'head', 'meta', 'title', 'link', 'script', 'body', 'header', 'h1', 'h2',
             'h3', 'nav', 'a', 'span', 'main', 'section', 'p', 'table', 'thead', 'tbody', 'tr',
             'th', 'td', 'label', 'select', 'option', 'div', 'canvas', 'style', 'form', 'input',
             'button', 'code'}


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.out = {'nodes': [], 'charts': [], 'sessions': [], 'sessions_node': None,
                    'sorted': None, 'foreign_tags': [], 'body': {},
                    'history_source': None, 'nodes_source': None}
        self.in_nodes_source = False
        self.tbody = None
        self.row = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in PAGE_TAGS:
            self.out['foreign_tags'].append(tag)
        if tag == 'body':
            self.out['body'] = a
        if a.get('id') == 'nodes-source':
            self.in_nodes_source = True
            self.out['nodes_source'] = ''
        if a.get('id') == 'history-source':
            self.out['history_source'] = a.get('data-source')
        if tag == 'table' and a.get('id') == 'sessions-table':
            self.out['sessions_node'] = a.get('data-node-id')
        if tag == 'th' and a.get('class', '').startswith('sorted-'):
            self.out['sorted'] = [a.get('data-sort'), a['class'][len('sorted-'):]]
        if tag == 'tbody':
            self.tbody = a.get('id')
        if tag == 'tr' and self.tbody:
            self.row = {'id': a.get('data-node-id'), 'role': a.get('data-role'), 'cells': []}
        if tag == 'td' and self.row is not None:
            self.cell = {'class': a.get('class', ''), 'v': a.get('data-v'), 'text': '',
                         'source': a.get('data-source'), 'age_ms': a.get('data-age-ms')}
        if tag == 'div' and 'data-resource' in a:
            self.out['charts'].append({'resource': a['data-resource'],
                                       'points': int(a.get('data-points', 0)),
                                       'line_pixels': int(a.get('data-line-pixels', 0))})

    def handle_data(self, data):
        if self.in_nodes_source:
            self.out['nodes_source'] += data
        if self.cell is not None:
            self.cell['text'] += data

    def handle_endtag(self, tag):
        if tag == 'p':
            self.in_nodes_source = False
        if tag == 'td' and self.cell is not None:
            self.row['cells'].append(self.cell)
            self.cell = None
        elif tag == 'tr' and self.row is not None:
            self.finish_row()
            self.row = None
        elif tag == 'tbody':
            self.tbody = None

    def finish_row(self):
        if self.tbody == 'nodes-body':
            r = {'id': int(self.row['id']), 'role': self.row['role']}
            for c in self.row['cells']:
                cls = c['class'].split()
                key = cls[0] if cls else None
                if key == 'name' or key == 'state':
                    r[key] = c['text']
                elif key == 'source':
                    r['source'] = c['source']
                    r['age_ms'] = float(c['age_ms']) if c['age_ms'] else None
                elif key and c['v'] is not None:
                    r[key] = float(c['v']) if c['v'] != '' else None
            self.out['nodes'].append(r)
        elif self.tbody == 'sessions-body':
            cells = self.row['cells']
            self.out['sessions'].append({'protocol': cells[0]['text'],
                                         'packets': int(cells[5]['v']),
                                         'bytes': int(cells[6]['v'])})


d = Dom()
d.feed(sys.stdin.read())
print(json.dumps(d.out))
