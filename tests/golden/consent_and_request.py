# Independent encoder for the golden tests in tests/unit/consent_test.cc:
# the consent receipt (v2) and the policy request (v2) canonical bytes.
# Run: python3 tests/golden/consent_and_request.py
import struct, hashlib, calendar, time
def S(b):
    if isinstance(b,str): b=b.encode()
    return struct.pack('>I',len(b))+b
def U64(v): return struct.pack('>Q',v)
def L(items): 
    items=sorted([i.encode() if isinstance(i,str) else i for i in items])
    return struct.pack('>I',len(items))+b''.join(S(i) for i in items)
def t(s): return calendar.timegm(time.strptime(s,'%Y-%m-%dT%H:%M:%SZ'))
frm=t('2026-11-28T14:00:00Z')
r=S('casenode-consent-receipt/v2')+S('00112233445566778899aabbccddeeff')+S('jeugdhulp')+S(bytes(range(32)))
r+=L(['parent','child'])+U64(13)+L(['casusoverleg'])+L(['zorg','afspraken'])+L(['gemeente','jeugdhulp'])+L([])
r+=U64(frm)+U64(frm+365*86400)+S('staff-7f3a')+S('DMS-2026-0042')+U64(t('2029-03-01T00:00:00Z'))
print('receipt', len(r), hashlib.sha256(r).hexdigest())
fact=S('consent-fact')+S('r1')+S('')+S('valid')+L(['vroegsignalering'])+L(['signaal'])+L(['school'])+L([])
q=S('casenode-policy-request/v2')+S('')+S('school')+S('school')+S('signal.lookup')+S('vroegsignalering')+L(['signaal'])+S('public_task')+L([fact])+U64(0)+U64(1)+U64(1)
print('request', hashlib.sha256(q).hexdigest())
