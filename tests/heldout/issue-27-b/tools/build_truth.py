import json, os, sys
sys.path.insert(0, os.path.dirname(__file__))
from truth_entries import T
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'doctor')
cases = sorted(d for d in os.listdir(D) if os.path.isdir(os.path.join(D, d)))
names = [t['case'] for t in T]
assert sorted(names) == cases, (set(names) ^ set(cases))
assert len(set(names)) == len(names)
for t in T:
    src = json.load(open(os.path.join(D, t['case'], 'SOURCE.json')))
    assert src['dockerfile'] == t['dockerfile'], t['case']
T.sort(key=lambda t: t['case'])
json.dump(T, open(os.path.join(D, 'truth.json'), 'w'), indent=2, ensure_ascii=False)
print(len(T), 'cases', sum(t['hazardous'] for t in T), 'hazardous')
