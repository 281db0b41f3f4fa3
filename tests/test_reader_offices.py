"""Requests written the way other offices write them, each with what a clerk would read.

The forms come from the shapes seen in failures on mail nobody on the project wrote (issue 9:
"R v Nadia PRENTICE (d.o.b. 9 May 1981)", a label on one line and its value on the next,
numbered co-defendants, "Client: Orla QUINN, born …"), from other offices' habits (terse
phone mail, police files, HTML from Word, Gmail and Outlook, aligned plain-text forms) and
from the failures tests/test_reader_forms.py found. Each case says only what it is about;
a key left out is not checked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import pytest

from conftest import Decider


class Case(NamedTuple):
    name: str
    subject: str
    body: str
    expect: dict[str, Any]
    content_type: str = 'text/plain; charset="utf-8"'


CASES = [
    Case(
        "issue-rv-dob-paren",
        "URN 22TF1234526 - Telford MC",
        "Dear Sir/Madam,\n\nR v Nadia PRENTICE (d.o.b. 9 May 1981)\nTrial listed at Telford on 3 February 2027\n\nPlease serve the unused material schedule.\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {
            "action": "deliver",
            "defendants": [("Nadia PRENTICE", "1981-05-09")],
            "hearing": "2027-02-03",
        },
    ),
    Case(
        "issue-hi-ptph",
        "22WR1234526 Worcester CC",
        "Hi - PTPH at Worcester CC on 22/02/27 for Dean FAULKNER dob 11/04/1990. Can you chase the case papers please?\n\nThanks\nMo",
        {
            "action": "deliver",
            "defendants": [("Dean FAULKNER", "1990-04-11")],
            "hearing": "2027-02-22",
        },
    ),
    Case(
        "issue-act-for-she",
        "20CV1234526 Coventry Crown Court",
        "Dear Sir/Madam,\n\nI act for Simone ACHARYA (DOB 17/06/1988). I have still not received the draft indictment; she is next listed at Coventry for trial on 09/03/2027. Please serve it.\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {
            "action": "deliver",
            "defendants": [("Simone ACHARYA", "1988-06-17")],
            "hearing": "2027-03-09",
        },
    ),
    Case(
        "issue-client-born",
        "20BE1234526 Birmingham MC",
        "Client: Orla QUINN, born 08/03/1983. Sentence hearing 15/01/2027.\nPlease send the prosecution's sentencing note.\n\nP Ferreira",
        {
            "action": "deliver",
            "defendants": [("Orla QUINN", "1983-03-08")],
            "hearing": "2027-01-15",
        },
    ),
    Case(
        "issue-defendant-respondent",
        "22DN1234525 Shrewsbury Crown Court",
        "Dear Sir/Madam,\n\nDefendant/Respondent: Celia MARLOWE\nBorn: 5 October 1962\nHearing: 10/12/2026\nRequest: variation of the restraint order.\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {"action": "deliver", "defendants": [("Celia MARLOWE", "1962-10-05")]},
    ),
    Case(
        "issue-label-next-line",
        "20BW1234526 Birmingham Crown Court",
        "Dear Sir/Madam,\n\nDefendant\nMohammed Idris RAHMAN\nDate of birth\n01/12/1993\nNext hearing\nPTPH 08/01/2027\nRequest\nPlease serve the MG5.\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {
            "action": "deliver",
            "defendants": [("Mohammed Idris RAHMAN", "1993-12-01")],
            "hearing": "2027-01-08",
        },
    ),
    Case(
        "issue-numbered",
        "CCU | 20BE1234525 | Birmingham Crown Court",
        "We act for the defendants below.\n\nDefendants:\n1. Chidi NKEMELU - DOB 03/03/1988\n2. FARROW, Gemma - DOB 22/07/1991\n\nNext hearing: 05/02/2027 (PTPH)\nRequest: the phone attribution schedule.\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {
            "action": "deliver",
            "defendants": [("Chidi NKEMELU", "1988-03-03"), ("Gemma FARROW", "1991-07-22")],
        },
    ),
    Case(
        "issue-rv-pnc-tuesday",
        "23NU1234526 Nuneaton MC",
        "Dear Sir/Madam,\n\nR v Owen TALBOT, DOB 12.08.1996, PNC ID 21/337104M. First hearing at Nuneaton Magistrates' Court on Tuesday 2nd March 2027.\n\nPlease serve IDPC.\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {
            "action": "deliver",
            "defendants": [("Owen TALBOT", "1996-08-12")],
            "hearing": "2027-03-02",
        },
    ),
    Case(
        "issue-leamington-building",
        "Leamington Spa Magistrates' Court (Warwickshire Justice Centre) - 23LS1234526",
        "Dear Sir/Madam,\n\nDefendant: Ann LEE\nDOB: 01/01/1980\nHearing: 12/12/2026\nRequest: IDPC\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {"action": "deliver", "route": "magistrates"},
    ),
    Case(
        "issue-empty-nature-then-def",
        "20BW1234526 Birmingham MC",
        "Dear Sir/Madam,\n\nNature of request:\nDefendant: Ann LEE\nDOB: 01/01/1980\nHearing: 12/12/2026\n\nKind regards\n\nJ Bloggs\nBloggs & Co Solicitors\n",
        {"action": "bounce", "missing": ["nature"]},
    ),
    Case(
        "html-rows",
        "20BW1234526 Birmingham MC",
        "<p>Dear Sir</p><table><tr><td>Client</td><td>Ann LEE</td></tr><tr><td>Date of birth</td><td>01/01/1980</td></tr><tr><td>Next hearing</td><td>12/12/2026</td></tr><tr><td>Request</td><td>IDPC please</td></tr></table>",
        {"action": "deliver", "defendants": [("Ann LEE", "1980-01-01")]},
        "text/html",
    ),
    Case(
        "html-header-codefs",
        "20BW1234526 Birmingham Crown Court",
        "<p>We act for:</p><table><tr><th>Surname</th><th>Forename(s)</th><th>Date of birth</th></tr><tr><td>LEE</td><td>Ann</td><td>01/01/1980</td></tr><tr><td>KHAN</td><td>Omar Ali</td><td>02/02/1991</td></tr></table><p>PTPH 12/12/2026. Please serve the papers.</p>",
        {
            "action": "deliver",
            "defendants": [("Ann LEE", "1980-01-01"), ("Omar Ali KHAN", "1991-02-02")],
        },
        "text/html",
    ),
    Case(
        "prose-born-on-the",
        "URN 21CB1234526 Cannock MC",
        "Dear Sir/Madam,\n\nOur client, Mr Jamie O'Connor, was born on the 3rd of June 1985 and is due to appear before Cannock Magistrates on Friday 11th December 2026. We would ask that the IDPC be served.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "dash-labels-dotted",
        "URN 20WS1234526 Walsall MC",
        "Please find below details of our client:\n\nName - Jamie O'CONNOR\nDate of Birth - 03.06.1985\nNext Court Date - 11.12.2026\n\nWe request service of IDPC.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "returns-to-court",
        "20WS1234526 Walsall",
        "Dear Sir/Madam,\n\nWe act for Jamie O'CONNOR (DOB 03/06/1985). His case returns to court on 11 December 2026 for sentence. Could you let us have the antecedents?\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "hearing": "2026-12-11",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
        },
    ),
    Case(
        "comes-back-before",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nRe: Jamie O'CONNOR dob 3/6/85\n\nThe matter comes back before the court on 11/12/26. Please confirm whether the CCTV has been viewed.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "hearing": "2026-12-11",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
        },
    ),
    Case(
        "date-of-birth-sentence",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nWe are instructed by Jamie O'Connor. His date of birth is 3 June 1985. He is listed for trial at Walsall Magistrates' Court on 11 December 2026.\n\nPlease serve the witness statements.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "hearing": "2026-12-11",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
        },
    ),
    Case(
        "two-in-prose",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nWe represent Jack HOLLAND (DOB 01/01/1990) and Tom HOLLAND (DOB 02/02/1992), who are both listed for trial on 11/12/2026.\n\nPlease serve the CCTV.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "defendants": [("Jack HOLLAND", "1990-01-01"), ("Tom HOLLAND", "1992-02-02")],
        },
    ),
    Case(
        "no-dob-signature-caps",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nWe act for Jamie O'CONNOR. The trial is on 11/12/2026. Please serve the CCTV.\n\nRegards\n\nSarah JONES\nSolicitor",
        {"action": "bounce", "missing": ["dob"]},
    ),
    Case(
        "no-name-just-dob",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nDOB: 03/06/1985\nHearing: 11/12/2026\nPlease serve IDPC.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "bounce", "missing": ["defendant_name"]},
    ),
    Case(
        "officer-only",
        "20WS1234526 Walsall MC",
        "The OIC, PC 2210 ASHWORTH, has uploaded the statements. Trial 11/12/2026. Please review.\n\nDC Jane TRANTER\nWest Midlands Police",
        {"action": "bounce", "missing": ["defendant_name", "dob"]},
    ),
    Case(
        "client-name-table-tabs",
        "20WS1234526 Walsall MC",
        "Client Name:\tJamie O'CONNOR\nDOB:\t03/06/1985\nCourt:\tWalsall Magistrates' Court\nDate:\t11/12/2026\nMatter:\tIDPC request\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "dob-first-then-name",
        "20WS1234526 Walsall MC",
        "DOB 03/06/1985\nName: Jamie O'CONNOR\nListed: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "all-caps-body",
        "20WS1234526 WALSALL MC",
        "DEFENDANT: JAMIE O'CONNOR\nD.O.B: 03/06/85\nNEXT HEARING: 11/12/26\nREQUEST: IDPC PLEASE\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "title-case-field",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'Connor\nDate of birth: 3rd June 1985\nHearing date: Friday 11th December 2026\nNature of request: please serve IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "offence-date-only-future-hearing-uncued",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nClient: Jamie O'CONNOR (03/06/1985)\nOffence date: 01/10/2026\nWalsall MC 11/12/2026\nPlease serve IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "hearing-time-then-date",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nDefendant: Jamie O'CONNOR\nDOB: 03/06/1985\nHearing: 10am, 11/12/2026, court 3\nRequest: IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "hearing": "2026-12-11"},
    ),
    Case(
        "gmail-short",
        "20WS1234526 Walsall",
        "hi can u send idpc for jamie o'connor dob 3.6.85 walsall mags fri 11/12 thx",
        {"action": "deliver", "hearing": "2026-12-11"},
    ),
    Case(
        "surname-first-no-comma",
        "20WS1234526 Walsall MC",
        "Defendant: O'CONNOR Jamie\nDOB: 03/06/1985\nHearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "firm-name-caps",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nBLOGGS & CO act for Jamie O'CONNOR (DOB 03/06/1985), trial 11/12/2026. Please serve the MG6C.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "witness-names",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nWe act for Jamie O'CONNOR (DOB 03/06/1985). The trial is listed for 11/12/2026. Please confirm whether Mrs Karen SMITH and Mr Paul JONES are warned.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "youth-aged",
        "20WS1234526 Walsall Youth Court",
        "Dear Sir/Madam,\n\nWe act for Tyler BROOKS, aged 15 (DOB 09/08/2011), who appears at Walsall Youth Court on 11/12/2026. Please serve IDPC.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Tyler BROOKS", "2011-08-09")]},
    ),
    Case(
        "dob-implausible",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 03/06/2025\nHearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "bounce", "missing": ["dob"]},
    ),
    Case(
        "next-hearing-date-label-date-on-next-line",
        "20WS1234526 Walsall MC",
        "Defendant:\nJamie O'CONNOR\n\nDOB:\n03/06/1985\n\nNext hearing date:\n11/12/2026\n\nRequest:\nIDPC please\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "hearing": "2026-12-11"},
    ),
    Case(
        "adjourned-from-to",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 03/06/1985\nThe trial was adjourned from 24/11/2026 to 11/12/2026.\nRequest: please re-warn the witnesses.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "hearing": "2026-12-11"},
    ),
    Case(
        "response-by-and-hearing",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 03/06/1985\nWe would be grateful for a response by 01/12/2026, as the trial is on 11/12/2026.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "hearing": "2026-12-11"},
    ),
    Case(
        "particle-lowercase",
        "20WS1234526 Walsall MC",
        "Client: Jan van der BERG\nDOB: 03/06/1985\nHearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Jan van der BERG", "1985-06-03")]},
    ),
    Case(
        "hyphen-apostrophe-prose",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nWe act for Mary-Jane O'Sullivan-Price, born 14/03/1994, whose trial is listed on 11/12/2026. Please serve the CCTV.\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Mary-Jane O'SULLIVAN-PRICE", "1994-03-14")]},
    ),
    Case(
        "defendants-and-field",
        "20WS1234526 Walsall MC",
        "Defendants: Jack HOLLAND and Tom HOLLAND\nDOB: 01/01/1990 and 02/02/1992\nHearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver"},
    ),
    Case(
        "police-mg-form",
        "OFFICIAL - 20WS1234526 Walsall MC - file",
        "Sir/Ma'am,\n\nSuspect: Jamie O'CONNOR\nDOB: 03/06/1985\nFirst appearance: Walsall MC, 11/12/2026\nAction: please review the charge.\n\nDC 123 Smith\nWalsall CID\n\nKind regards\n\nJane Doe\nSolicitor\nBloggs & Co Solicitors\n1 High Street, Walsall WS1 1AA\nT: 01922 000000\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "outlook-html-word-para-labels",
        "URN 20CV1234526 Coventry Magistrates Court",
        '<html><body><div class="WordSection1"><p class="MsoNormal">Good morning,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal"><b>Defendant:</b> Liam Patrick\nBYRNE<o:p></o:p></p><p class="MsoNormal"><b>DOB:</b> 14/02/1992<o:p></o:p></p><p class="MsoNormal"><b>Next hearing:</b> 15/12/2026 (trial)<o:p></o:p></p><p class="MsoNormal"><b>Request:</b> MG6C and the CAD log.<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal">Kind regards<o:p></o:p></p></div></body></html>',
        {
            "action": "deliver",
            "defendants": [("Liam Patrick BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
        "text/html",
    ),
    Case(
        "gmail-html-divs",
        "20CV1234526 Coventry MC",
        '<div dir="ltr"><div>Hi,</div><div><br></div><div>Client: Liam BYRNE</div><div>DOB: 14/02/1992</div><div>Trial: 15/12/2026</div><div><br></div><div>Please serve the MG6C.</div><div><br></div><div>Thanks</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 9 Nov 2026 at 10:00, CPS wrote:<br></div><blockquote class="gmail_quote">Defendant: Other PERSON<br>DOB: 01/01/1970</blockquote></div>',
        {
            "action": "deliver",
            "defendants": [("Liam BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
        "text/html",
    ),
    Case(
        "fw-police-notice-no-own-dob",
        "FW: Charge notice - 20CV1234526 - Coventry MC",
        "Good morning,\n\nPlease see below. Our client Liam BYRNE is due at Coventry MC on 15/12/2026. Please serve IDPC.\n\nRegards\nRaj\n\n-----Original Message-----\nFrom: CJU\nSent: 01 December 2026\nSubject: Charge\n\nDefendant: Liam BYRNE\nDOB: 14/02/1992",
        {"action": "bounce", "missing": ["dob"]},
    ),
    Case(
        "police-file-lots-of-dates",
        "20CV1234526 Coventry MC - file upgrade",
        "Sir/Ma'am,\n\nDefendant: Liam BYRNE (14/02/1992)\nDate of offence: 02/10/2026\nDate charged: 03/10/2026\nFirst hearing: 15/12/2026 at Coventry MC\nThe victim, Mrs Anne COLE (DOB 01/01/1960), has made a further statement dated 20/11/2026.\nAction: please review.\n\nPC 1234 Hughes\nWest Midlands Police",
        {"action": "deliver", "hearing": "2026-12-15"},
    ),
    Case(
        "dob-in-brackets-only",
        "20CV1234526 Coventry MC",
        "Good morning,\n\nIDPC request for Liam BYRNE (14.02.92), who is at Coventry Magistrates on 15/12/26.\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {
            "action": "deliver",
            "defendants": [("Liam BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
    ),
    Case(
        "table-plain-spaces",
        "20CV1234526 Coventry MC",
        "Defendant        Liam BYRNE\nDOB              14/02/1992\nHearing          15/12/2026\nRequest          IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {
            "action": "deliver",
            "defendants": [("Liam BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
    ),
    Case(
        "surname-forename-labels",
        "20CV1234526 Coventry MC",
        "Surname: BYRNE\nForename(s): Liam Patrick\nDOB: 14/02/1992\nHearing: 15/12/2026\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "deliver", "defendants": [("Liam Patrick BYRNE", "1992-02-14")]},
    ),
    Case(
        "iso-dates",
        "20CV1234526 Coventry MC",
        "Defendant: Liam BYRNE\nDOB: 1992-02-14\nHearing date: 2026-12-15\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {
            "action": "deliver",
            "defendants": [("Liam BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
    ),
    Case(
        "month-first-words",
        "20CV1234526 Coventry MC",
        "Good morning,\n\nWe act for Liam BYRNE, born February 14th 1992. He is listed on December 15th 2026. Please serve IDPC.\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {
            "action": "deliver",
            "defendants": [("Liam BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
    ),
    Case(
        "two-digit-year-dob-hearing",
        "20CV1234526 Coventry MC",
        "Defendant: Liam BYRNE\nDOB: 14/02/92\nHearing: 15/12/26\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {
            "action": "deliver",
            "defendants": [("Liam BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
    ),
    Case(
        "past-hearing-only",
        "20CV1234526 Coventry MC",
        "Defendant: Liam BYRNE\nDOB: 14/02/1992\nThe hearing on 01/11/2026 was adjourned, new date to be fixed.\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "bounce", "missing": ["hearing_date"]},
    ),
    Case(
        "name-in-subject-only",
        "20CV1234526 Coventry MC - R v Liam BYRNE",
        "Good morning,\n\nDOB: 14/02/1992\nHearing: 15/12/2026\nPlease serve IDPC.\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "bounce", "missing": ["defendant_name"]},
    ),
    Case(
        "mr-only-prose",
        "20CV1234526 Coventry MC - BYRNE",
        "Good morning,\n\nWe act for Mr Byrne (DOB 14/02/1992), who appears on 15/12/2026. Please serve IDPC.\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "deliver", "defendants": [("BYRNE", "1992-02-14")]},
    ),
    Case(
        "welsh-name-particle",
        "20CV1234526 Coventry MC",
        "Client: ap GRIFFITH, Rhys\nDOB: 14/02/1992\nHearing: 15/12/2026\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "deliver", "defendants": [("Rhys ap GRIFFITH", "1992-02-14")]},
    ),
    Case(
        "mc-surname",
        "20CV1234526 Coventry MC",
        "Good morning,\n\nI represent Siobhan McDONAGH (DOB 14/02/1992), listed 15/12/2026. Please serve IDPC.\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "deliver", "defendants": [("Siobhan McDONAGH", "1992-02-14")]},
    ),
    Case(
        "nature-only-subject",
        "20CV1234526 Coventry MC - IDPC request",
        "Defendant: Liam BYRNE\nDOB: 14/02/1992\nHearing: 15/12/2026\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "deliver"},
    ),
    Case(
        "nature-label-tbc",
        "20CV1234526 Coventry MC",
        "Defendant: Liam BYRNE\nDOB: 14/02/1992\nHearing: 15/12/2026\nRequest: TBC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "bounce", "missing": ["nature"]},
    ),
    Case(
        "hearing-tbc-subject-date",
        "20CV1234526 Coventry MC - trial 15/12/2026",
        "Defendant: Liam BYRNE\nDOB: 14/02/1992\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "deliver", "hearing": "2026-12-15"},
    ),
    Case(
        "contradicting-urn",
        "20CV1234526 Coventry MC",
        "Defendant: Liam BYRNE\nDOB: 14/02/1992\nURN: 20CV7654326\nHearing: 15/12/2026\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "hold"},
    ),
    Case(
        "explicit-crown-beats-town",
        "20CV1234526 Coventry",
        "Good morning,\n\nDefendant: Liam BYRNE\nDOB: 14/02/1992\nNext hearing: 15/12/2026 at Coventry Crown Court\nRequest: IDPC\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "deliver", "route": "crown_court"},
    ),
    Case(
        "listed-in-town-body",
        "20CV1234526 IDPC",
        "Good morning,\n\nWe act for Liam BYRNE (DOB 14/02/1992), listed in Coventry on 15/12/2026. Please serve IDPC.\n\nMany thanks\n\nRaj Patel\nAssociate | Patel Defence LLP\nDX 12345 Coventry\n",
        {"action": "hold"},
    ),
    Case(
        "suspect-label",
        "20WS1234526 Walsall MC - file",
        "Suspect: Jamie O'Connor\nDOB: 03/06/1985\nFirst hearing: 11/12/2026\nAction: please review the file.\n\nDC 123 Smith",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "in-the-matter-of",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nIn the matter of Jamie O'CONNOR (DOB 03/06/1985), listed for trial on 11/12/2026, please serve the CCTV.\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "iso-datetime",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 1985-06-03\nHearing: 2026-12-11T10:00\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "hearing": "2026-12-11"},
    ),
    Case(
        "dd-mon-yyyy-dashes",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 03-Jun-1985\nHearing: 11-Dec-2026\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {
            "action": "deliver",
            "hearing": "2026-12-11",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
        },
    ),
    Case(
        "re-idpc-first-line",
        "20WS1234526 Walsall MC",
        "Re: IDPC\n\nDefendant: Jamie O'CONNOR\nDOB: 03/06/1985\nHearing: 11/12/2026\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver"},
    ),
    Case(
        "curly-apostrophe-label",
        "20WS1234526 Walsall MC",
        "Defendant’s name: Jamie O’Connor\nDate of birth: 3 June 1985\nNext hearing: 11 December 2026\nNature of request: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "defendant-surname-first-label",
        "20WS1234526 Walsall MC",
        "Defendant (surname first): O'CONNOR, Jamie\nDOB: 03/06/1985\nHearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "details-heading-then-labels",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nDefendant's details:\nName: Jamie O'CONNOR\nDOB: 03/06/1985\nAddress: 1 High Street, Walsall\n\nHearing details:\nDate: 11/12/2026\nCourt: Walsall Magistrates' Court\n\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "age-only-bounce",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nWe act for Jamie O'CONNOR, aged 41, listed 11/12/2026. Please serve IDPC.\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "bounce", "missing": ["dob"]},
    ),
    Case(
        "client-details-combined",
        "20WS1234526 Walsall MC",
        "Client details: Jamie O'CONNOR, 03/06/1985, 1 High Street, Walsall\nNext hearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "caps-signature-no-valediction",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 03/06/1985\nHearing: 11/12/2026\nRequest: IDPC\nSAM OKAFOR\nSolicitor",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "prose-long-letter",
        "Our ref: SO/123 Your ref: 20WS1234526 - Walsall MC",
        "Dear Sirs\n\nRe: R v Jamie O'CONNOR\nWalsall Magistrates' Court\n\nWe write further to the above matter, in which we act for the defendant. Our client was born on 3 June 1985. The matter is next before the court on Friday 11 December 2026 for trial.\n\nWe should be grateful if you would serve the unused material schedule as soon as possible, and in any event by 4 December 2026.\n\nYours faithfully\n\nOkafor Defence LLP",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "bullets-with-dashes-values",
        "20WS1234526 Walsall MC",
        "• Client – Jamie O'CONNOR\n• DOB – 03/06/1985\n• Next hearing – 11/12/2026 (Walsall MC)\n• Request – IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "html-br-lines",
        "20WS1234526 Walsall MC",
        "<div>Hi,<br><br>Client: Jamie O'CONNOR<br>DOB: 03/06/1985<br>Hearing: 11/12/2026<br><br>Please send IDPC.<br><br>Thanks<br>Sam</div>",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
        "text/html",
    ),
    Case(
        "html-label-in-td-value-below",
        "20WS1234526 Walsall MC",
        "<table><tr><td><b>Defendant</b><br>Jamie O'CONNOR</td></tr><tr><td><b>DOB</b><br>03/06/1985</td></tr><tr><td><b>Hearing</b><br>11/12/2026</td></tr><tr><td><b>Request</b><br>IDPC</td></tr></table>",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
        "text/html",
    ),
    Case(
        "two-defendants-one-dob-missing",
        "20WS1234526 Walsall MC",
        "Defendant 1: Jack HOLLAND, DOB 01/01/1990\nDefendant 2: Tom HOLLAND\nHearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "bounce", "missing": ["dob"]},
    ),
    Case(
        "hearing-week-commencing",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 03/06/1985\nTrial window: w/c 11/01/2027\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "hearing": "2027-01-11"},
    ),
    Case(
        "phone-number-not-date",
        "20WS1234526 Walsall MC",
        "Defendant: Jamie O'CONNOR\nDOB: 03/06/1985\nHearing: 11/12/2026\nRequest: call me on 01922 123456 or 07700 900123 about IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "hearing": "2026-12-11"},
    ),
    Case(
        "surname-only-in-field",
        "20WS1234526 Walsall MC",
        "Defendant: O'CONNOR\nDOB: 03/06/1985\nHearing: 11/12/2026\nRequest: IDPC\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "deliver", "defendants": [("O'CONNOR", "1985-06-03")]},
    ),
    Case(
        "name-on-two-lines-in-html-cell",
        "20WS1234526 Walsall MC",
        "<table><tr><td>Defendant</td><td>Jamie<br>O'CONNOR</td></tr><tr><td>DOB</td><td>03/06/1985</td></tr><tr><td>Hearing</td><td>11/12/2026</td></tr><tr><td>Request</td><td>IDPC</td></tr></table>",
        {"action": "deliver", "defendants": [("Jamie O'CONNOR", "1985-06-03")]},
        "text/html",
    ),
    Case(
        "the-above-named",
        "20WS1234526 Walsall MC - R v Jamie O'CONNOR",
        "Dear Sir/Madam,\n\nWe act for the above named, DOB 03/06/1985, listed 11/12/2026. Please serve IDPC.\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {"action": "bounce", "missing": ["defendant_name"]},
    ),
    Case(
        "sentence-hearing-date-in-brackets",
        "20WS1234526 Walsall MC",
        "Dear Sir/Madam,\n\nOur client Jamie O'CONNOR (03.06.1985) is to be sentenced (11.12.2026) and we need the PSR.\n\nKind regards\n\nSam Okafor\nOkafor Defence LLP\n",
        {
            "action": "deliver",
            "hearing": "2026-12-11",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
        },
    ),
    Case(
        "word-letter-layout-table",
        "Your ref: 20WS1234526 - R v O'CONNOR - Walsall Magistrates' Court",
        "<html><body><table><tr><td>Our ref: SO/JO/123</td><td>Your ref: 20WS1234526</td><td>Date: 20 November 2026</td></tr></table><p>Dear Sirs</p><p><b>R v Jamie O'CONNOR (DOB 03/06/1985)</b></p><p><b>Walsall Magistrates' Court - Trial 11 December 2026</b></p><p>We act for the above-named defendant. We write to request disclosure of the 999 call and the CAD log, which are referred to in the MG6C.</p><p>Yours faithfully</p><p>Okafor Defence LLP</p></body></html>",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
        "text/html",
    ),
    Case(
        "clerk-style",
        "R v O'CONNOR - Walsall MC - 20WS1234526 - counsel's request",
        "Good afternoon,\n\nI am the clerk to Mr Richard Hale of counsel, who appears for the defendant Jamie O'CONNOR (DOB 3.6.85) at the trial on 11 December 2026.\n\nCounsel asks that the Crown serve the BWV before the trial.\n\nKind regards\n\nMark Dyer\nSenior Clerk",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "police-case-file",
        "OFFICIAL - URN 20WS1234526 - Walsall MC - case file",
        "Sir/Ma'am,\n\nDefendant(s): O'CONNOR, Jamie (DOB 03/06/1985)\nOffence(s): Theft from shop\nPlea: Not guilty\nTrial date: 11/12/2026, Walsall Magistrates' Court\nOIC: PC 1234 Hughes\n\nAction required: please review the file and advise on the upgrade.\n\nRegards\nPC 1234 Hughes",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "paralegal-two-lines",
        "20WS1234526 Walsall",
        "Jamie O'Connor 03/06/85 - trial Walsall 11/12/26\nplease serve CCTV asap\nta\nKim",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "reply-top-posted-with-details-below-in-own-words",
        "RE: 20WS1234526 Walsall MC",
        "Hi,\n\nSorry, details as requested:\n\nJamie O'CONNOR, 03/06/1985, next in court 11/12/2026.\n\nWe need the IDPC.\n\nThanks\nSam\n\nFrom: Magistrates Team\nSent: 20 November 2026 10:00\nTo: Sam\nSubject: 20WS1234526\n\nPlease send the defendant's date of birth.",
        {
            "action": "deliver",
            "defendants": [("Jamie O'CONNOR", "1985-06-03")],
            "hearing": "2026-12-11",
        },
    ),
    Case(
        "witness-with-a-date-of-birth",
        "20CV1234526 Coventry MC",
        "We act for Liam BYRNE (DOB 14/02/1992), whose trial is on 15/12/2026. The complainant, Anne COLE (born 01/01/1960), has withdrawn. Please discontinue.\n\nRegards\nRaj",
        {"action": "deliver", "defendants": [("Liam BYRNE", "1992-02-14")]},
    ),
    Case(
        "co-accused-with-a-date-of-birth",
        "20CV1234526 Coventry MC",
        "We act for Liam BYRNE (DOB 14/02/1992), whose trial is on 15/12/2026. His co-accused, Dean COLE (DOB 01/01/1990), is represented by another firm. Please serve the CCTV.\n\nRegards\nRaj",
        {"action": "deliver", "defendants": [("Liam BYRNE", "1992-02-14")]},
    ),
    Case(
        "victim-in-a-police-file",
        "20CV1234526 Coventry MC - file upgrade",
        "Sir/Ma'am,\n\nDefendant: Liam BYRNE (14/02/1992)\nDate of offence: 02/10/2026\nDate charged: 03/10/2026\nFirst hearing: 15/12/2026 at Coventry MC\nThe victim, Mrs Anne COLE (DOB 01/01/1960), has made a further statement dated 20/11/2026.\nAction: please review.\n\nPC 1234 Hughes\nWest Midlands Police",
        {
            "action": "deliver",
            "defendants": [("Liam BYRNE", "1992-02-14")],
            "hearing": "2026-12-15",
        },
    ),
    Case(
        "was-listed-then-adjourned",
        "20CV1234526 Coventry MC",
        "Defendant: Liam BYRNE\nDOB: 14/02/1992\nThe trial was listed on 15/12/2026 but has been adjourned to 20/01/2027.\nRequest: please re-warn the witnesses.\n\nRegards\nRaj",
        {"action": "deliver", "hearing": "2027-01-20"},
    ),
    Case(
        "mc-surname-written-first",
        "20CV1234526 Coventry MC",
        "Dear Sir/Madam,\n\nWe act for McALLISTER, John (DOB 09/11/1988), who is listed at the court on 24/11/2026. Please serve IDPC.\n\nKind regards\n\nHelen Marsh",
        {"action": "deliver", "defendants": [("John McALLISTER", "1988-11-09")]},
    ),
    Case(
        "name-and-dob-under-one-label",
        "20CV1234526 Coventry MC",
        "Dear Sir/Madam,\n\nName and DOB: SMITH, John, 09/11/1988\nHearing: 24/11/2026\nRequest: please serve IDPC.\n\nKind regards\n\nHelen Marsh",
        {"action": "deliver", "defendants": [("John SMITH", "1988-11-09")]},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_read_as_a_clerk_would(route: Decider, case: Case) -> None:
    decision = route(case.subject, case.body, content_type=case.content_type)
    got: dict[str, Any] = {
        "action": decision.action.value,
        "route": decision.route,
        "defendants": [(d.name, d.dob.isoformat() if d.dob else None) for d in decision.defendants],
        "hearing": decision.hearing_date.isoformat() if decision.hearing_date else None,
        "missing": decision.missing,
        "court": decision.court.name if decision.court else None,
    }
    assert {key: got[key] for key in case.expect} == case.expect, decision.reasons


def test_the_cases_are_dated_from_the_suites_today() -> None:
    # The hearing dates above are written for conftest.NOW (Monday 23 November 2026).
    from conftest import NOW

    assert NOW.date() == dt.date(2026, 11, 23)
