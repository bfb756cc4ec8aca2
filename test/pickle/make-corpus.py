"""Writes the pickle corpus for the reader's tests: every case in every protocol 0 to 5, with the
value it holds in a tagged JSON encoding (bytes, big ints, special floats and sets tagged), so the
test can compare what the reader returns with what Python wrote. Each PICKLE_FILE given after
them is read as CPython reads a Python 2 pickle (encoding='bytes'), and what it holds is written,
tagged, to PICKLE_FILE.json: the tests compare the reader with CPython in the same python3 call.

Usage: python3 make-corpus.py OUT_DIR IMAGE_FILE [PICKLE_FILE ...]
"""
import collections
import json
import math
import os
import pickle
import sys

out_dir, image_file, read_files = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(image_file, 'rb') as handle:
    image = handle.read()

MAX_SAFE = 2**53 - 1


def key_text(key):
    # The reader's documented rule for non-string dict keys: the text JSON would give them.
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode('utf-8')  # a Python 2 str, which the reader reads as UTF-8 text
    if key is None:
        return 'null'
    if isinstance(key, bool):
        return 'true' if key else 'false'
    if isinstance(key, (int, float)):
        return repr(key)
    raise TypeError(key)


def tag(value):
    if isinstance(value, (bytes, bytearray)):
        import base64
        return {'$bytes': base64.b64encode(bytes(value)).decode('ascii')}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {'$bigint': str(value)} if abs(value) > MAX_SAFE else value
    if isinstance(value, float):
        if math.isnan(value):
            return {'$float': 'nan'}
        if math.isinf(value):
            return {'$float': 'inf' if value > 0 else '-inf'}
        if value == 0 and math.copysign(1, value) < 0:
            return {'$float': '-0.0'}
        return value
    if isinstance(value, (set, frozenset)):
        return {'$set': sorted((tag(item) for item in value), key=str)}
    if isinstance(value, (list, tuple)):
        return [tag(item) for item in value]
    if isinstance(value, dict):
        return {key_text(key): tag(item) for key, item in value.items()}
    raise TypeError(type(value))


shared = [1, 'two', b'three']
cases = {
    'image': {'image': image, 'name': 'photo.jpg', 'quality': 90},
    'unicode': {
        'text': 'h\xe9llo w\xf6rld \u20ac \U0001F600 \U0001D11E \x00 \\ \\u0041 \n\r\t "double" \'single\'',
        'cjk': '\u6f22\u5b57',
        'empty': '',
        'long': 'x' * 300 + '\u20ac',
        'latin1': '\xff\xfe\x80',
    },
    'ints': {'values': [
        0, 1, -1, 127, 128, 255, 256, -128, -129, -256, 2**15 - 1, 2**15, 2**16 - 1, 2**16,
        2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**32, 2**47, -2**47, 2**48, MAX_SAFE, -MAX_SAFE,
        2**53, -2**53, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64, -2**70, 10**40, -10**40, 2**1000,
    ]},
    'floats': {'values': [0.0, -0.0, 1.5, -2.25, 0.1, 1e308, -1e-308, 5e-324, 1e16, float('nan'), float('inf'), float('-inf')]},
    'nested': {'a': {'b': {'c': [1, (2, 3), [4, [5, []]], {}]}}, 'empty_tuple': (), 'none': None, 'yes': True, 'no': False},
    'shared': {'first': shared, 'second': shared, 'pair': (shared, shared)},
    'sets': {'set': {1, 2, 3}, 'frozen': frozenset(['a', 'b']), 'empty': set()},
    'bytearray': {'data': bytearray(b'\x00\xffabc'), 'empty': bytearray(), 'bytes': b'', 'long': bytes(range(256)) * 2},
    'ordered': collections.OrderedDict([('z', 1), ('a', 2), ('m', {'x': b'y'})]),
    'keys': {1: 'int', -7: 'negative', 2.5: 'float', None: 'none', False: 'bool', 'str': 'string'},
    'batches': {'list': list(range(2500)), 'dict': {'k%d' % i: i for i in range(2500)}},
    'proto_keys': {'__proto__': {'polluted': 'yes'}, 'constructor': {'prototype': {'polluted': 'yes'}}},
}

for name, value in cases.items():
    for protocol in range(6):
        with open(os.path.join(out_dir, '%s-%d.pkl' % (name, protocol)), 'wb') as handle:
            pickle.dump(value, handle, protocol=protocol)
    with open(os.path.join(out_dir, '%s.json' % name), 'w') as handle:
        json.dump(tag(value), handle)

for path in read_files:
    with open(path, 'rb') as handle:
        value = pickle.load(handle, encoding='bytes')
    with open(path + '.json', 'w') as handle:
        json.dump(tag(value), handle)
