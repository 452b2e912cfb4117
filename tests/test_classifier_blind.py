"""Labelled sets written from shared/taxonomy.md alone by someone who read nothing else.

The eighth to twelfth blind sets were never read while building rules or the learned model:
only their aggregate numbers were looked at (intake/classifier/README.md tells how often, and
that the eighth to tenth were also used to catch rule changes that lost an emergency; two of
the eighth's messages were seen once by accident). The seventh was blind until its errors were
read on 2026-12-03; the fifth and sixth were blind until the kind model was chosen on them,
and the shipped model has since been trained on them, so their numbers are now in-sample. The
two emergency near-miss sets and dev sets 10 to 13 (2026-12-03) were written to be read: the
rules were fixed on them, as on dev sets 14 to 22 later; blind sets 13 to 19 are sealed like the
eighth to twelfth. These tests only guard the aggregate numbers measured with the
shipped classifier against regressions: nothing here looks at a single message, and nobody
should tune against the blind ones. The learned model's category and scope axes were
retrained on every read set on the evening of 2026-12-03, so the dev sets' category and scope
numbers are in-sample now; the choice between that model and three others was checked on the
pooled sealed eighth to nineteenth sets as well as by cross-validation on the dev sets.
On 2026-12-04 dev sets 23 and 24 were read (a few urgency rules came from them) and joined
the model's training data; the twentieth blind set, written the same day, is sealed. Later that
day dev set 25 was read for emergencies and the twenty-first blind set, written beside it, was
sealed; the model's category, scope and urgency axes were then retrained with dev set 25 among
the read sets. Dev set 26 (a third of it emergencies, a third their look-alikes) was read for
urgency rules the same evening. On the evening of 2026-12-04 (a later session) the model's four
axes were retrained on every read set, dev set 26 now among them, and on real residents' posts
kept outside the repository, so the dev sets' numbers are in-sample on every axis; the
twenty-second blind set, written that evening and sealed (its aggregates were looked at when
the model was chosen), is sealed. Dev set 27 (boundaries of complaint, emergency and scope) was
read the same night; the twenty-third blind set, written beside it and looked at twice as an
aggregate (before and after that round), was the bench's hold-out until the next session. In
that session (2026-12-04, late night) dev set 28 and the third emergency dev set were read for
rules and the twenty-fourth blind set, written beside them, was sealed: its aggregates were
looked at with every rule change (to catch losses) and when the emergency net was widened, and
it was the bench's hold-out until the next session. The shipped model was not retrained, so
dev set 28, the third emergency dev set and the twenty-fourth blind set are out of its sample.
On 2026-12-05 dev set 29 (emergencies told without alarm words and their near-misses) was read
for rules, and the twenty-fifth blind set, written beside it, was sealed: its aggregates were
looked at before and after that round. Later that day dev set 30 (the kind and category
boundaries a dispatcher gets wrong) was read for rules, and the twenty-sixth blind set, written
beside it, was sealed: scored once before that round (it scored the same at the session's start)
and once after. Last that day a fourth emergency dev set (150 emergencies told every way,
110 near-misses) was read for rules, and the twenty-seventh blind set, written beside it, was
sealed: scored once with the session's first rules and once with its last, and the bench's
hold-out until the next session. On 2026-12-05 (a later session) dev set 31 (hard cases on
every axis, a quarter of it emergencies and as many near-misses) was read for rules, and the
twenty-eighth blind set, written beside it, was sealed: scored once with the session's first
rules and once with its last; later that session a fifth emergency dev set (170 emergencies
told without alarm words, 130 near-misses) was read for rules, and the twenty-ninth blind set,
written beside it, was sealed: scored once with the session's first rules and once with its
last, and the bench's hold-out now (its aggregates were looked at with each later change, and
the labels and rule ids of one of its messages once, when a change moved it). The sealed sets 3
to 28 were looked at only as aggregates, with each rule change, to catch lost emergencies and
new false alarms, and for a change that moved one of them, at its labels and rule ids. Last that
session dev set 32 (kind and category boundaries) was read, and the thirtieth blind set was
sealed: scored once with the session's first rules and once with its last, after the last rule
change, and the bench's hold-out until the next session. On 2026-12-06 a sixth emergency dev
set (160 emergencies told every way, 140 near-misses) and dev set 33 (half of it city-portal
posts) were read for rules, and the thirty-first blind set, written beside them, was sealed:
scored once with the session's first rules and once with its last (the same numbers); sealed
sets 3 to 30 were looked at as aggregates with each rule change, and at the labels and rule ids
of the messages a change moved (one of them a new false alarm, taken back). Later that session
dev set 34 (category and kind boundaries, Russian and English) was read for rules, and the
thirty-second blind set, written after the first round, was sealed: scored once after that round
and once with the session's last rules (the same numbers), and the bench's hold-out until the
next session. On 2026-12-06 (a later session) dev set 35 (kind and category boundaries, alarming
messages that deny the danger) was read for rules, and the thirty-third blind set, written
beside it, was sealed: scored with the session's first rules, after each round and once more
for the learned model's complaint bar (the only change that moved it), and the bench's hold-out
until the thirty-fourth; sealed sets 3 to 32 were
looked at as aggregates and at the labels and rule ids of the messages a change moved. Later
that session dev set 36 (complaint against request on the same faults) was read for rules, and
the thirty-fourth blind set, written beside it after the first round, was sealed: scored before
that round, for the model's complaint bar (whose value, chosen on the read sets and real posts,
was checked against sealed aggregates too) and with the session's last rules, and the bench's
hold-out now Last that session dev set 37 (category boundaries: rules, other, staff, safety)
was read for rules.
In the sixth session of 2026-12-06 the thirty-fifth set was opened as far as the labels and
rule ids of its one missed emergency (an English plea to knock icicles down, which the
exception "knocking down" had stood down); the ninth emergency dev set was read for rules; the
thirty-sixth blind set, written that session, is sealed: scored before any rule of that
session was tested on it and after each round. Later that session the tenth emergency dev set
(terse, misspelt, told as questions) was read for rules, and the thirty-seventh blind set,
written beside it, is sealed: scored once when it came (the same with the session's starting
rules but category 0.894), and at the end. Last, dev set 38 (category boundaries) was read for
rules and the thirty-eighth blind set, written beside it, is sealed and the bench's hold-out: its
first reading lost an emergency the starting rules caught (34 -> 33 of 35); a bisection by
aggregates found the commit, and the rule ids of that one message showed the exception ("в
чате пишут", neighbours' hearsay in the house chat) that stood it down; it was taken out.
In the seventh session of 2026-12-06 the eleventh emergency dev set (emergencies and, for
precision, their look-alikes) and the twelfth (ordinary messages in alarming words) were read
for rules, and dev set 39 (complaints without the usual words) and the thirteenth emergency
dev set (water, sewage, falling things, cold), dev sets 40 to 50 (inbox mixes) and the
fourteenth emergency dev set (emergencies hard to recognise) after them;
the thirty-ninth blind set, written beside the eleventh, is sealed: scored once when it came, before
any rule of that session, and after each round.
The fortieth blind set, written later that session, was scored when it came and after each
round; the labels and rule ids of the four messages one round moved were looked at (see its
entry below), so it is no clean measurement of those rules any more. The forty-first and
forty-second, written last, are sealed: the forty-first scored when it came and after the last
rounds, the forty-second when it came (after the dev set 42 round) and at the session's end
(the same numbers). In the eighth session of 2026-12-06 the forty-third was written and sealed
first, and dev sets 51 to 54 were written with its very prompt and read for rules; the
forty-third was scored when it came and with each rule change as an aggregate, and the ids of
the messages a change moved were seen in a diff, never their texts.
In the tenth session (2026-12-07) three sets written from the taxonomy alone were scored once
when they came and then read for rules: dev set 56 (a month's inbox, written as the forty-fifth
blind set), dev set 57 (city-portal posts) and dev set 58 (written as the forty-sixth blind set
after the first round, a third of its Russian emails portal posts). The forty-seventh blind set
(a fifth of it portal posts), written after the session's last rule change, is sealed: scored
once, with the session's last rules (its numbers were the same with the session's first).
In the eleventh session (2026-12-07) the forty-eighth and forty-ninth blind sets (the same
prompt, written side by side) were scored when they came, with the session's starting rules and
model. Their aggregates, and the
forty-seventh's, were looked at as aggregates while the retrained model (averaged with the one
it replaced) was weighed, after its settings had been chosen on blind sets 34-44
(intake/classifier/README.md, eleventh session); no message of them was read. Their numbers
below are the starting classifier's.
In the thirteenth session (2026-12-07) the fifty-first blind set (sealed in the twelfth) was read
for rules and is dev set 60; the fifty-second and fifty-third were written side by side from the
taxonomy alone and scored when they came; the fifty-second was then read (dev set 61), the
fifty-third stays sealed. The fifty-fourth and fifty-fifth (one more prompt, side by side)
came later in the session: the fifty-fourth was scored when it came, then read (dev set 62);
the fifty-fifth stays sealed; likewise the fifty-sixth (read, dev set 63) and the fifty-seventh
(sealed), written from a third prompt; and from a fourth, the fifty-ninth (read, dev set 64:
chosen over the fifty-eighth after both were scored, for its false alarms) and the fifty-eighth
(sealed). From a fifth prompt (fourteenth session), the sixtieth and the sixty-first: which
to read was decided before either was scored; the sixtieth was read (dev set 65), the
sixty-first stays sealed. From a sixth prompt (half city complaints portal, half the building's
own inbox), the sixty-second (read, dev set 66) and the sixty-third (sealed), which to read again
decided before scoring; and from a seventh (a dispatcher's evening and night shift), the
sixty-fourth (read, dev set 67) and the sixty-fifth (sealed), decided likewise; from an eighth
(letters carrying more than one matter), the sixty-sixth (read, dev set 68) and the sixty-seventh
(sealed); from a ninth (danger told by what people see, hear, smell and feel), the sixty-eighth
(read, dev set 69) and the sixty-ninth (sealed). In the fifteenth session, from a tenth prompt
(messages dictated into a phone or typed on the go), the seventieth (read, dev set 70) and the
seventy-first (sealed); from an eleventh (a northern winter), the seventy-second (read, dev set
71) and the seventy-third (sealed); from a twelfth (a house chat's lines pasted into the bot),
the seventy-fourth (read, dev set 72) and the seventy-fifth (sealed); from a thirteenth (older
residents' long letters), the seventy-sixth (read, dev set 73) and the seventy-seventh (sealed,
one message's text seen in a diff after the rules were written); from a fourteenth (English-
speaking residents), the seventy-eighth (read, dev set 74) and the seventy-ninth (sealed); which of
each pair to read was decided before any was scored. In the sixteenth session, from a fifteenth
prompt (English-speaking tenants, alarm words used loosely), the eightieth (read, dev set 75)
and the eighty-first (sealed); from a sixteenth (city-portal posts and formal letters), the
eighty-second (read, dev set 76) and the eighty-third (sealed); from a seventeenth (alarming
words without an emergency, emergencies told calmly), the eighty-fourth (read, dev set 77) and
the eighty-fifth (sealed); the even one of each pair was chosen for reading before any was
written. Later that session, from an eighteenth prompt (short messages typed quickly, irritated
requests beside real complaints), the eighty-sixth (read, dev set 78) and the eighty-seventh
(sealed); from a nineteenth (English e-mails, emotional words without a grievance), the
eighty-eighth (read, dev set 79) and the eighty-ninth (sealed), chosen likewise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.classifier import Classifier
from intake.classifier.evaluate import evaluate, headline

DATA = Path(__file__).parent / "data"
MARGIN = 0.03
MEASURED = {
    "blind5": {"kind.macro_f1": 0.975, "complaint.recall": 1.0, "complaint.precision": 1.0,
              "category.accuracy": 0.973, "urgency.macro_f1": 0.969, "emergency.recall": 1.0,
              "emergency.precision": 0.958, "scope.accuracy": 0.967},
    "blind6": {"kind.macro_f1": 0.97, "complaint.recall": 1.0, "complaint.precision": 0.957,
              "category.accuracy": 0.951, "urgency.macro_f1": 0.949, "emergency.recall": 1.0,
              "emergency.precision": 0.882, "scope.accuracy": 1.0},
    "blind7": {"kind.macro_f1": 0.978, "complaint.recall": 0.988, "complaint.precision": 0.965,
              "category.accuracy": 0.981, "urgency.macro_f1": 0.971, "emergency.recall": 1.0,
              "emergency.precision": 0.97, "scope.accuracy": 1.0},
    "blind8": {"kind.macro_f1": 0.938, "complaint.recall": 0.958, "complaint.precision": 0.911,
              "category.accuracy": 0.94, "urgency.macro_f1": 0.9, "emergency.recall": 1.0,
              "emergency.precision": 0.837, "scope.accuracy": 0.963},
    "blind9": {"kind.macro_f1": 0.945, "complaint.recall": 0.974, "complaint.precision": 0.95,
              "category.accuracy": 0.938, "urgency.macro_f1": 0.871, "emergency.recall": 1.0,
              "emergency.precision": 0.75, "scope.accuracy": 0.943},
    "blind10": {"kind.macro_f1": 0.933, "complaint.recall": 0.949, "complaint.precision": 0.902,
               "category.accuracy": 0.933, "urgency.macro_f1": 0.856, "emergency.recall": 1.0,
               "emergency.precision": 0.794, "scope.accuracy": 0.943},
    "blind11": {"kind.macro_f1": 0.939, "complaint.recall": 0.987, "complaint.precision": 0.928,
               "category.accuracy": 0.919, "urgency.macro_f1": 0.848, "emergency.recall": 1.0,
               "emergency.precision": 0.711, "scope.accuracy": 0.967},
    "blind12": {"kind.macro_f1": 0.932, "complaint.recall": 0.974, "complaint.precision": 0.949,
               "category.accuracy": 0.938, "urgency.macro_f1": 0.906, "emergency.recall": 1.0,
               "emergency.precision": 0.9, "scope.accuracy": 0.947},
    "blind13": {"kind.macro_f1": 0.922, "complaint.recall": 0.945, "complaint.precision": 0.885,
               "category.accuracy": 0.929, "urgency.macro_f1": 0.865, "emergency.recall": 1.0,
               "emergency.precision": 0.9, "scope.accuracy": 0.938},
    "blind14": {"kind.macro_f1": 0.903, "complaint.recall": 0.983, "complaint.precision": 0.868,
               "category.accuracy": 0.912, "urgency.macro_f1": 0.882, "emergency.recall": 0.972,
               "emergency.precision": 0.921, "scope.accuracy": 0.94},
    "blind15": {"kind.macro_f1": 0.902, "complaint.recall": 0.9, "complaint.precision": 0.783,
               "category.accuracy": 0.935, "urgency.macro_f1": 0.841, "emergency.recall": 0.943,
               "emergency.precision": 0.892, "scope.accuracy": 0.94},
    "blind16": {"kind.macro_f1": 0.945, "complaint.recall": 0.959, "complaint.precision": 0.947,
               "category.accuracy": 0.958, "urgency.macro_f1": 0.84, "emergency.recall": 0.972,
               "emergency.precision": 0.814, "scope.accuracy": 0.976},
    "blind17": {"kind.macro_f1": 0.889, "complaint.recall": 0.904, "complaint.precision": 0.92,
               "category.accuracy": 0.922, "urgency.macro_f1": 0.886, "emergency.recall": 0.973,
               "emergency.precision": 0.9, "scope.accuracy": 0.963},
    "emergency-dev": {"kind.macro_f1": 0.963, "complaint.recall": 0.969,
                     "complaint.precision": 0.941, "category.accuracy": 0.952,
                     "urgency.macro_f1": 0.964, "emergency.recall": 1.0,
                     "emergency.precision": 1.0, "scope.accuracy": 0.989},
    # re-measured with the eleventh session's model: 2 of its 20 complaints (read, in-sample)
    # are requests now, the price of a model better on every held-out set
    "emergency-dev2": {"kind.macro_f1": 0.898, "complaint.recall": 0.9,
                      "complaint.precision": 0.72, "category.accuracy": 0.947,
                      "urgency.macro_f1": 0.963, "emergency.recall": 1.0,
                      "emergency.precision": 1.0, "scope.accuracy": 0.995},
    "dev10": {"kind.macro_f1": 0.959, "complaint.recall": 0.974, "complaint.precision": 0.915,
             "category.accuracy": 0.962, "urgency.macro_f1": 0.961, "emergency.recall": 1.0,
             "emergency.precision": 0.968, "scope.accuracy": 0.976},
    "dev11": {"kind.macro_f1": 0.972, "complaint.recall": 1.0, "complaint.precision": 0.974,
             "category.accuracy": 0.971, "urgency.macro_f1": 0.967, "emergency.recall": 1.0,
             "emergency.precision": 0.966, "scope.accuracy": 0.995},
    # emergency recall re-measured on 2026-12-07 with the model's net at 0.95 (one frost
    # message the net had raised at 0.85; see EMERGENCY_NET for the held-out measurement)
    "dev12": {"kind.macro_f1": 0.938, "complaint.recall": 1.0, "complaint.precision": 0.906,
             "category.accuracy": 0.967, "urgency.macro_f1": 0.964, "emergency.recall": 0.964,
             "emergency.precision": 0.966, "scope.accuracy": 0.967},
    "dev13": {"kind.macro_f1": 0.969, "complaint.recall": 0.984, "complaint.precision": 0.969,
             "category.accuracy": 0.957, "urgency.macro_f1": 0.986, "emergency.recall": 1.0,
             "emergency.precision": 1.0, "scope.accuracy": 0.972},
    "dev14": {"kind.macro_f1": 0.987, "complaint.recall": 1.0, "complaint.precision": 0.921,
             "category.accuracy": 0.972, "urgency.macro_f1": 0.991, "emergency.recall": 1.0,
             "emergency.precision": 0.99, "scope.accuracy": 0.986},
    "dev15": {"kind.macro_f1": 0.95, "complaint.recall": 1.0, "complaint.precision": 0.91,
             "category.accuracy": 0.964, "urgency.macro_f1": 0.957, "emergency.recall": 1.0,
             "emergency.precision": 0.962, "scope.accuracy": 0.996},
    "dev16": {"kind.macro_f1": 0.954, "complaint.recall": 0.897, "complaint.precision": 0.9,
             "category.accuracy": 0.953, "urgency.macro_f1": 0.979, "emergency.recall": 0.989,
             "emergency.precision": 0.989, "scope.accuracy": 0.986},
    "dev17": {"kind.macro_f1": 0.966, "complaint.recall": 0.973, "complaint.precision": 0.973,
             "category.accuracy": 0.969, "urgency.macro_f1": 0.932, "emergency.recall": 1.0,
             "emergency.precision": 0.875, "scope.accuracy": 0.965},
    "dev18": {"kind.macro_f1": 0.986, "complaint.recall": 0.969, "complaint.precision": 0.914,
             "category.accuracy": 0.935, "urgency.macro_f1": 0.94, "emergency.recall": 0.99,
             "emergency.precision": 0.99, "scope.accuracy": 0.991},
    "dev19": {"kind.macro_f1": 0.946, "complaint.recall": 1.0, "complaint.precision": 0.957,
             "category.accuracy": 0.953, "urgency.macro_f1": 0.983, "emergency.recall": 1.0,
             "emergency.precision": 1.0, "scope.accuracy": 0.99},
    "dev20": {"kind.macro_f1": 0.968, "complaint.recall": 1.0, "complaint.precision": 0.953,
             "category.accuracy": 0.989, "urgency.macro_f1": 1.0, "emergency.recall": 1.0,
             "emergency.precision": 1.0, "scope.accuracy": 0.989},
    "dev21": {"kind.macro_f1": 0.973, "complaint.recall": 1.0, "complaint.precision": 0.96,
             "category.accuracy": 0.964, "urgency.macro_f1": 0.986, "emergency.recall": 1.0,
             "emergency.precision": 0.99, "scope.accuracy": 0.995},
    "blind18": {"kind.macro_f1": 0.961, "complaint.recall": 0.986, "complaint.precision": 0.932,
               "category.accuracy": 0.959, "urgency.macro_f1": 0.912, "emergency.recall": 1.0,
               "emergency.precision": 0.857, "scope.accuracy": 0.941},
    "dev22": {"kind.macro_f1": 0.964, "complaint.recall": 0.964, "complaint.precision": 0.903,
             "category.accuracy": 0.937, "urgency.macro_f1": 0.943, "emergency.recall": 1.0,
             "emergency.precision": 1.0, "scope.accuracy": 0.974},
    "blind19": {"kind.macro_f1": 0.94, "complaint.recall": 0.917, "complaint.precision": 0.902,
               "category.accuracy": 0.882, "urgency.macro_f1": 0.944, "emergency.recall": 1.0,
               "emergency.precision": 0.973, "scope.accuracy": 0.932},
    "dev23": {"kind.macro_f1": 0.992, "complaint.recall": 1.0, "complaint.precision": 0.987,
             "category.accuracy": 0.967, "urgency.macro_f1": 0.982, "emergency.recall": 1.0,
             "emergency.precision": 0.979, "scope.accuracy": 0.985},
    "dev24": {"kind.macro_f1": 0.992, "complaint.recall": 1.0, "complaint.precision": 0.99,
             "category.accuracy": 0.991, "urgency.macro_f1": 0.959, "emergency.recall": 1.0,
             "emergency.precision": 0.923, "scope.accuracy": 0.991},
    "blind20": {"kind.macro_f1": 0.94, "complaint.recall": 0.95, "complaint.precision": 0.934,
               "category.accuracy": 0.9, "urgency.macro_f1": 0.887, "emergency.recall": 1.0,
               "emergency.precision": 0.881, "scope.accuracy": 0.932},
    "dev25": {"kind.macro_f1": 0.966, "complaint.recall": 0.99, "complaint.precision": 0.99,
             "category.accuracy": 0.981, "urgency.macro_f1": 0.979, "emergency.recall": 1.0,
             "emergency.precision": 0.984, "scope.accuracy": 0.981},
    "blind21": {"kind.macro_f1": 0.931, "complaint.recall": 0.949, "complaint.precision": 0.974,
               "category.accuracy": 0.943, "urgency.macro_f1": 0.894, "emergency.recall": 0.972,
               "emergency.precision": 0.833, "scope.accuracy": 0.924},
    "dev26": {"kind.macro_f1": 0.971, "complaint.recall": 0.981, "complaint.precision": 0.927,
             "category.accuracy": 0.951, "urgency.macro_f1": 0.953, "emergency.recall": 1.0,
             "emergency.precision": 0.963, "scope.accuracy": 0.986},
    "blind22": {"kind.macro_f1": 0.926, "complaint.recall": 0.887, "complaint.precision": 0.986,
               "category.accuracy": 0.906, "urgency.macro_f1": 0.945, "emergency.recall": 1.0,
               "emergency.precision": 1.0, "scope.accuracy": 0.934},
    "dev27": {"kind.macro_f1": 0.875, "complaint.recall": 0.77, "complaint.precision": 0.878,
             "category.accuracy": 0.91, "urgency.macro_f1": 0.819, "emergency.recall": 1.0,
             "emergency.precision": 0.904, "scope.accuracy": 0.928},
    "blind23": {"kind.macro_f1": 0.913, "complaint.recall": 0.911, "complaint.precision": 0.935,
               "category.accuracy": 0.924, "urgency.macro_f1": 0.906, "emergency.recall": 0.943,
               "emergency.precision": 0.868, "scope.accuracy": 0.976},
    "dev28": {"kind.macro_f1": 0.951, "complaint.recall": 0.914, "complaint.precision": 0.971,
             "category.accuracy": 0.944, "urgency.macro_f1": 0.955, "emergency.recall": 1.0,
             "emergency.precision": 0.957, "scope.accuracy": 0.941},
    "blind24": {"kind.macro_f1": 0.915, "complaint.recall": 0.929, "complaint.precision": 0.918,
               "category.accuracy": 0.931, "urgency.macro_f1": 0.874, "emergency.recall": 0.917,
               "emergency.precision": 0.917, "scope.accuracy": 0.94},
    "emergency-dev3": {"kind.macro_f1": 0.879, "complaint.recall": 0.879,
                      "complaint.precision": 0.806, "category.accuracy": 0.937,
                      "urgency.macro_f1": 0.897, "emergency.recall": 0.993,
                      "emergency.precision": 0.987, "scope.accuracy": 0.945},
    "dev29": {"kind.macro_f1": 0.91, "complaint.recall": 0.97, "complaint.precision": 0.774,
             "category.accuracy": 0.927, "urgency.macro_f1": 0.905, "emergency.recall": 1.0,
             "emergency.precision": 0.969, "scope.accuracy": 0.916},
    "blind25": {"kind.macro_f1": 0.931, "complaint.recall": 0.967, "complaint.precision": 0.829,
               "category.accuracy": 0.95, "urgency.macro_f1": 0.873, "emergency.recall": 0.972,
               "emergency.precision": 0.854, "scope.accuracy": 0.94},
    "dev30": {"kind.macro_f1": 0.952, "complaint.recall": 0.904, "complaint.precision": 0.932,
             "category.accuracy": 0.914, "urgency.macro_f1": 0.814, "emergency.recall": 1.0,
             "emergency.precision": 0.786, "scope.accuracy": 0.937},
    "blind26": {"kind.macro_f1": 0.915, "complaint.recall": 0.986, "complaint.precision": 0.895,
               "category.accuracy": 0.972, "urgency.macro_f1": 0.875, "emergency.recall": 0.946,
               "emergency.precision": 0.897, "scope.accuracy": 0.963},
    "emergency-dev4": {"kind.macro_f1": 0.844, "complaint.recall": 0.897,
                      "complaint.precision": 0.692, "category.accuracy": 0.878,
                      "urgency.macro_f1": 0.811, "emergency.recall": 0.987,
                      "emergency.precision": 0.931, "scope.accuracy": 0.894},
    "blind27": {"kind.macro_f1": 0.924, "complaint.recall": 0.986, "complaint.precision": 0.885,
               "category.accuracy": 0.936, "urgency.macro_f1": 0.919, "emergency.recall": 0.975,
               "emergency.precision": 0.907, "scope.accuracy": 0.945},
    "dev31": {"kind.macro_f1": 0.891, "complaint.recall": 0.879, "complaint.precision": 0.853,
             "category.accuracy": 0.903, "urgency.macro_f1": 0.933, "emergency.recall": 1.0,
             "emergency.precision": 0.972, "scope.accuracy": 0.922},
    "blind28": {"kind.macro_f1": 0.883, "complaint.recall": 0.855, "complaint.precision": 0.904,
               "category.accuracy": 0.943, "urgency.macro_f1": 0.888, "emergency.recall": 0.973,
               "emergency.precision": 0.857, "scope.accuracy": 0.964},
    "emergency-dev5": {"kind.macro_f1": 0.797, "complaint.recall": 0.806,
                      "complaint.precision": 0.585, "category.accuracy": 0.855,
                      "urgency.macro_f1": 0.857, "emergency.recall": 0.959,
                      "emergency.precision": 0.994, "scope.accuracy": 0.904},
    "blind29": {"kind.macro_f1": 0.897, "complaint.recall": 0.917, "complaint.precision": 0.895,
               "category.accuracy": 0.922, "urgency.macro_f1": 0.933, "emergency.recall": 1.0,
               "emergency.precision": 0.927, "scope.accuracy": 0.927},
    "dev32": {"kind.macro_f1": 0.914, "complaint.recall": 0.894, "complaint.precision": 0.875,
             "category.accuracy": 0.911, "urgency.macro_f1": 0.896, "emergency.recall": 1.0,
             "emergency.precision": 0.784, "scope.accuracy": 0.907},
    "blind30": {"kind.macro_f1": 0.916, "complaint.recall": 0.976, "complaint.precision": 0.921,
               "category.accuracy": 0.927, "urgency.macro_f1": 0.915, "emergency.recall": 0.972,
               "emergency.precision": 0.946, "scope.accuracy": 0.953},
    "emergency-dev6": {"kind.macro_f1": 0.898, "complaint.recall": 0.971,
                      "complaint.precision": 0.786, "category.accuracy": 0.873,
                      "urgency.macro_f1": 0.887, "emergency.recall": 1.0,
                      "emergency.precision": 0.982, "scope.accuracy": 0.94},
    "dev33": {"kind.macro_f1": 0.894, "complaint.recall": 0.947, "complaint.precision": 0.84,
             "category.accuracy": 0.9, "urgency.macro_f1": 0.91, "emergency.recall": 1.0,
             "emergency.precision": 0.925, "scope.accuracy": 0.939},
    "dev34": {"kind.macro_f1": 0.934, "complaint.recall": 0.948, "complaint.precision": 0.92,
             "category.accuracy": 0.947, "urgency.macro_f1": 0.861, "emergency.recall": 1.0,
             "emergency.precision": 0.885, "scope.accuracy": 0.929},
    "blind32": {"kind.macro_f1": 0.893, "complaint.recall": 0.945, "complaint.precision": 0.839,
               "category.accuracy": 0.949, "urgency.macro_f1": 0.861, "emergency.recall": 1.0,
               "emergency.precision": 0.867, "scope.accuracy": 0.959},
    "blind31": {"kind.macro_f1": 0.897, "complaint.recall": 0.941, "complaint.precision": 0.842,
               "category.accuracy": 0.867, "urgency.macro_f1": 0.862, "emergency.recall": 0.973,
               "emergency.precision": 0.9, "scope.accuracy": 0.931},
    "dev35": {"kind.macro_f1": 0.956, "complaint.recall": 0.976, "complaint.precision": 0.93,
             "category.accuracy": 0.923, "urgency.macro_f1": 0.899, "emergency.recall": 1.0,
             "emergency.precision": 0.821, "scope.accuracy": 0.949},
    "blind33": {"kind.macro_f1": 0.966, "complaint.recall": 1.0, "complaint.precision": 0.984,
               "category.accuracy": 0.959, "urgency.macro_f1": 0.907, "emergency.recall": 1.0,
               "emergency.precision": 0.947, "scope.accuracy": 0.94},
    "dev36": {"kind.macro_f1": 0.944, "complaint.recall": 0.964, "complaint.precision": 0.93,
             "category.accuracy": 0.939, "urgency.macro_f1": 0.916, "emergency.recall": 1.0,
             "emergency.precision": 0.929, "scope.accuracy": 0.954},
    "blind34": {"kind.macro_f1": 0.979, "complaint.recall": 0.984, "complaint.precision": 0.954,
               "category.accuracy": 0.977, "urgency.macro_f1": 0.912, "emergency.recall": 1.0,
               "emergency.precision": 0.921, "scope.accuracy": 0.95},
    "dev37": {"kind.macro_f1": 0.844, "complaint.recall": 0.877, "complaint.precision": 0.915,
             "category.accuracy": 0.876, "urgency.macro_f1": 0.788, "emergency.recall": 1.0,
             "emergency.precision": 0.719, "scope.accuracy": 0.876},
    # Emergencies told beside words that sound harmless, and alarms that are not (read,
    # 2026-12-06, fifth session): first reading 0.959 / 0.931 emergency recall / precision.
    "emergency-dev7": {"kind.macro_f1": 0.811, "complaint.recall": 0.898,
                       "complaint.precision": 0.759, "category.accuracy": 0.89,
                       "urgency.macro_f1": 0.837, "emergency.recall": 0.988,
                       "emergency.precision": 0.977, "scope.accuracy": 0.945},
    # Emergencies told without their usual words, and their look-alikes (read, same session):
    # first reading 0.925 / 0.949 emergency recall / precision.
    "emergency-dev8": {"kind.macro_f1": 0.845, "complaint.recall": 0.909,
                       "complaint.precision": 0.75, "category.accuracy": 0.879,
                       "urgency.macro_f1": 0.889, "emergency.recall": 0.975,
                       "emergency.precision": 0.994, "scope.accuracy": 0.907},
    # Sealed, scored at the end of the fifth session of 2026-12-06 (the same with the session's
    # starting rules: 0.931 category, 0.915 urgency, 0.90 emergency precision), then once more
    # after the eighth emergency dev set's round.
    "blind35": {"kind.macro_f1": 0.932, "complaint.recall": 0.958, "complaint.precision": 0.873,
               "category.accuracy": 0.935, "urgency.macro_f1": 0.922, "emergency.recall": 0.973,
               "emergency.precision": 0.923, "scope.accuracy": 0.958},
    # Emergencies told by what people see, hear and feel, and danger elsewhere, past, feared or
    # figurative (read, 2026-12-06, sixth session): first reading 0.907 / 0.895 emergency
    # recall / precision.
    "emergency-dev9": {"kind.macro_f1": 0.829, "complaint.recall": 0.879,
                       "complaint.precision": 0.707, "category.accuracy": 0.881,
                       "urgency.macro_f1": 0.851, "emergency.recall": 0.993,
                       "emergency.precision": 0.993, "scope.accuracy": 0.953},
    # Emergencies told tersely, misspelt, as questions, for others; near misses in the same
    # words (read, same session): first reading 0.920 / 0.890 emergency recall / precision.
    "emergency-dev10": {"kind.macro_f1": 0.847, "complaint.recall": 0.833,
                        "complaint.precision": 0.811, "category.accuracy": 0.892,
                        "urgency.macro_f1": 0.884, "emergency.recall": 0.98,
                        "emergency.precision": 0.987, "scope.accuracy": 0.936},
    # Category boundaries a dispatcher gets wrong (read, same session): first reading category
    # 0.889, emergency R/P 0.957 / 0.667.
    "dev38": {"kind.macro_f1": 0.886, "complaint.recall": 0.841, "complaint.precision": 0.88,
             "category.accuracy": 0.917, "urgency.macro_f1": 0.886, "emergency.recall": 1.0,
             "emergency.precision": 0.852, "scope.accuracy": 0.945},
    # Sealed, scored at the start of the sixth session of 2026-12-06 (the same with that
    # session's starting rules) and after each round.
    "blind36": {"kind.macro_f1": 0.971, "complaint.recall": 0.958, "complaint.precision": 1.0,
               "category.accuracy": 0.954, "urgency.macro_f1": 0.968, "emergency.recall": 1.0,
               "emergency.precision": 0.974, "scope.accuracy": 0.94},
    # Sealed, scored when it came in the sixth session of 2026-12-06.
    "blind37": {"kind.macro_f1": 0.915, "complaint.recall": 0.949, "complaint.precision": 0.914,
               "category.accuracy": 0.903, "urgency.macro_f1": 0.868, "emergency.recall": 1.0,
               "emergency.precision": 0.875, "scope.accuracy": 0.954},
    # Sealed; first reading 0.936, 0.93/0.93, 0.935, 0.905, 0.94/0.81 (33 of 35), 0.935
    # (starting rules: 0.97/0.79 emergency R/P); these are after the house-chat exception went.
    "blind38": {"kind.macro_f1": 0.936, "complaint.recall": 0.932, "complaint.precision": 0.932,
               "category.accuracy": 0.935, "urgency.macro_f1": 0.911, "emergency.recall": 0.971,
               "emergency.precision": 0.81, "scope.accuracy": 0.935},
    # Emergencies and, for precision, 160 look-alikes (drills, fears, past call-outs, welding,
    # figures of speech; read, seventh session of 2026-12-06): first reading emergency R/P
    # 1.00 / 0.855.
    "emergency-dev11": {"kind.macro_f1": 0.835, "complaint.recall": 0.837,
                        "complaint.precision": 0.8, "category.accuracy": 0.815,
                        "urgency.macro_f1": 0.839, "emergency.recall": 1.0,
                        "emergency.precision": 0.971, "scope.accuracy": 0.911},
    # Ordinary messages in alarming words (hot-water bills, a burst balloon, sparklers, a dead
    # smoke detector, an advert for leak sensors) beside 60 emergencies (read, same session):
    # first reading emergency R/P 0.983 / 0.881.
    "emergency-dev12": {"kind.macro_f1": 0.91, "complaint.recall": 0.951,
                        "complaint.precision": 0.867, "category.accuracy": 0.905,
                        "urgency.macro_f1": 0.857, "emergency.recall": 1.0,
                        "emergency.precision": 0.968, "scope.accuracy": 0.961},
    # Complaints told without the usual words (dates against today, refunds, comparison with
    # the next block, sarcasm) beside look-alike requests (read, same session): first reading
    # complaint recall 0.691, emergency R/P 0.957 / 0.759.
    "dev39": {"kind.macro_f1": 0.818, "complaint.recall": 0.836, "complaint.precision": 0.911,
             "category.accuracy": 0.896, "urgency.macro_f1": 0.829, "emergency.recall": 1.0,
             "emergency.precision": 0.821, "scope.accuracy": 0.922},
    # Water, sewage, falling things and cold: 80 emergencies beside 180 look-alikes in the same
    # words (read, same session): first reading emergency R/P 0.95 / 0.874.
    "emergency-dev13": {"kind.macro_f1": 0.846, "complaint.recall": 0.962,
                        "complaint.precision": 0.641, "category.accuracy": 0.875,
                        "urgency.macro_f1": 0.745, "emergency.recall": 0.975,
                        "emergency.precision": 0.963, "scope.accuracy": 0.918},
    # First reading (the session's rules as they then stood; the starting rules the same but
    # kind 0.922): 0.908, 0.91/0.91, 0.949, 0.863, 0.97/0.745 (35 of 36), 0.977. The labels and
    # rule ids of the four messages that round's changes moved were looked at: one emergency
    # lost to a regex that took "rather" for "rats" (fixed), two "other" messages made
    # complaints by "закрыли заявку" and "money back" (narrowed).
    "blind40": {"kind.macro_f1": 0.922, "complaint.recall": 0.913, "complaint.precision": 0.94,
               "category.accuracy": 0.949, "urgency.macro_f1": 0.867, "emergency.recall": 1.0,
               "emergency.precision": 0.75, "scope.accuracy": 0.977},
    # An inbox mix written like the blind sets, everyday messages naming hazards in passing
    # (read, same session): first reading 0.910, 0.885 / 0.932, 0.962, 0.902, 0.971 / 0.895.
    "dev40": {"kind.macro_f1": 0.926, "complaint.recall": 0.923, "complaint.precision": 0.935,
             "category.accuracy": 0.962, "urgency.macro_f1": 0.922, "emergency.recall": 1.0,
             "emergency.precision": 0.972, "scope.accuracy": 0.967},
    # A winter month's inbox for three blocks: emergencies told by what people see, alarming
    # non-emergencies, complaints told by dates, counts and sarcasm (read, same session): first
    # reading 0.874, 0.739 / 0.942, 0.926, 0.865, 0.969 / 0.838, 0.926.
    "dev41": {"kind.macro_f1": 0.907, "complaint.recall": 0.864, "complaint.precision": 0.95,
             "category.accuracy": 0.93, "urgency.macro_f1": 0.873, "emergency.recall": 1.0,
             "emergency.precision": 0.889, "scope.accuracy": 0.926},
    # An estate's summer and autumn inbox, the same recipe (read, same session): first reading
    # 0.903, 0.91/0.93, 0.908, 0.885, 1.00/0.775, 0.917.
    "dev42": {"kind.macro_f1": 0.92, "complaint.recall": 0.944, "complaint.precision": 0.933,
             "category.accuracy": 0.908, "urgency.macro_f1": 0.907, "emergency.recall": 1.0,
             "emergency.precision": 0.912, "scope.accuracy": 0.917},
    # A city inbox with many foreign tenants, idiomatic English (read, same session): first
    # reading 0.929, 0.88/0.97, 0.879, 0.903, 1.00/1.00, 0.911.
    "dev43": {"kind.macro_f1": 0.935, "complaint.recall": 0.909, "complaint.precision": 0.968,
             "category.accuracy": 0.883, "urgency.macro_f1": 0.903, "emergency.recall": 1.0,
             "emergency.precision": 1.0, "scope.accuracy": 0.911},
    # A provincial УК's inbox, Russian idioms of fire and flood (read, same session): first
    # reading 0.901, 0.88/0.92, 0.917, 0.831, 1.00/0.744, 0.949.
    "dev44": {"kind.macro_f1": 0.914, "complaint.recall": 0.908, "complaint.precision": 0.922,
             "category.accuracy": 0.931, "urgency.macro_f1": 0.868, "emergency.recall": 1.0,
             "emergency.precision": 0.941, "scope.accuracy": 0.949},
    # Another inbox mix (read, same session): first reading 0.873, 0.83/0.92, 0.955, 0.911,
    # 1.00/0.878, 0.928.
    "dev45": {"kind.macro_f1": 0.879, "complaint.recall": 0.849, "complaint.precision": 0.924,
             "category.accuracy": 0.955, "urgency.macro_f1": 0.924, "emergency.recall": 1.0,
             "emergency.precision": 0.947, "scope.accuracy": 0.928},
    # An inbox of students, pensioners, a kindergarten, shop tenants (read, same session): first
    # reading 0.884, 0.79/0.93, 0.871, 0.858, 1.00/0.795, 0.908.
    "dev47": {"kind.macro_f1": 0.893, "complaint.recall": 0.826, "complaint.precision": 0.934,
             "category.accuracy": 0.885, "urgency.macro_f1": 0.888, "emergency.recall": 1.0,
             "emergency.precision": 0.972, "scope.accuracy": 0.908},
    # 130 emergencies told the way people write when they do not know it is one (buried at the
    # end of a letter, by their effect, as a question or a joke), 110 harmless twins (read,
    # same session): first reading emergency R/P 0.869 / 0.876.
    "emergency-dev14": {"kind.macro_f1": 0.823, "complaint.recall": 0.818,
                        "complaint.precision": 0.628, "category.accuracy": 0.837,
                        "urgency.macro_f1": 0.785, "emergency.recall": 0.938,
                        "emergency.precision": 0.938, "scope.accuracy": 0.94},
    # Holidays, moves, pets, guests, thaw: everyday water, gas, smoke and falling words (read,
    # same session): first reading 0.886, 0.82/0.88, 0.874, 0.790, 0.973/0.766, 0.923.
    "dev48": {"kind.macro_f1": 0.886, "complaint.recall": 0.823, "complaint.precision": 0.879,
             "category.accuracy": 0.878, "urgency.macro_f1": 0.83, "emergency.recall": 1.0,
             "emergency.precision": 0.925, "scope.accuracy": 0.923},
    # Half English from many countries, half Russian with Ukrainian and Belarusian colour (read,
    # same session): first reading 0.905, 0.79/0.89, 0.914, 0.878, 0.971/0.829, 0.923.
    "dev49": {"kind.macro_f1": 0.916, "complaint.recall": 0.839, "complaint.precision": 0.897,
             "category.accuracy": 0.923, "urgency.macro_f1": 0.902, "emergency.recall": 1.0,
             "emergency.precision": 0.921, "scope.accuracy": 0.923},
    # One more inbox mix, written last (read, same session): first reading 0.897, 0.88/0.90,
    # 0.946, 0.891, 1.00/0.865, 0.908.
    "dev50": {"kind.macro_f1": 0.897, "complaint.recall": 0.879, "complaint.precision": 0.895,
             "category.accuracy": 0.946, "urgency.macro_f1": 0.901, "emergency.recall": 1.0,
             "emergency.precision": 0.914, "scope.accuracy": 0.908},
    # Posts in the city portal's style about buildings and yards (read, same session): first
    # reading 0.936, 0.94/0.91, 0.943, 0.874, 1.00/0.812, 0.960.
    "dev46": {"kind.macro_f1": 0.947, "complaint.recall": 0.935, "complaint.precision": 0.906,
             "category.accuracy": 0.943, "urgency.macro_f1": 0.892, "emergency.recall": 1.0,
             "emergency.precision": 0.897, "scope.accuracy": 0.96},
    # Sealed, written late in the seventh session of 2026-12-06; first reading (the same with the
    # session's starting rules): 0.953, 0.97/0.97, 0.967, 0.899, 1.00/0.833, 0.958; a later
    # round took away one of its false alarms (seen by id in a diff, its text never read).
    "blind41": {"kind.macro_f1": 0.953, "complaint.recall": 0.974, "complaint.precision": 0.974,
               "category.accuracy": 0.967, "urgency.macro_f1": 0.906, "emergency.recall": 1.0,
               "emergency.precision": 0.854, "scope.accuracy": 0.958},
    # Sealed, written late in that session, scored when it came and at its end, the same (the
    # starting rules: the same but complaint precision 0.921).
    "blind42": {"kind.macro_f1": 0.919, "complaint.recall": 0.986, "complaint.precision": 0.909,
               "category.accuracy": 0.95, "urgency.macro_f1": 0.875, "emergency.recall": 1.0,
               "emergency.precision": 0.902, "scope.accuracy": 0.972},
    # Sealed, scored when it came in the seventh session of 2026-12-06 (first reading).
    "blind39": {"kind.macro_f1": 0.909, "complaint.recall": 0.865, "complaint.precision": 0.941,
               "category.accuracy": 0.917, "urgency.macro_f1": 0.879, "emergency.recall": 0.973,
               "emergency.precision": 0.75, "scope.accuracy": 0.945},
    # Inbox mixes written on 2026-12-06 (eighth session) with the very prompt of the sealed
    # forty-third set, read for rules: dev set 52 first (first reading 0.820, 0.71/0.79, 0.912,
    # 0.772, 0.94/0.81, 0.926), dev set 51 scored after the dev set 52 round, before it was read
    # (0.866, 0.80/0.89, 0.917, 0.813, 0.87/0.85, 0.897; at its arrival 0.860, 0.77/0.90, the
    # rest the same), then read.
    "dev51": {"kind.macro_f1": 0.887, "complaint.recall": 0.883, "complaint.precision": 0.898,
             "category.accuracy": 0.926, "urgency.macro_f1": 0.857, "emergency.recall": 0.974,
             "emergency.precision": 0.974, "scope.accuracy": 0.902},
    "dev52": {"kind.macro_f1": 0.844, "complaint.recall": 0.797, "complaint.precision": 0.797,
             "category.accuracy": 0.912, "urgency.macro_f1": 0.797, "emergency.recall": 0.943,
             "emergency.precision": 0.917, "scope.accuracy": 0.926},
    # Two more inbox mixes from the same prompt (more implicit complaints), read for rules in
    # the same session: dev set 53 (first reading 0.873, 0.82/0.89, 0.919, 0.873, 0.89/0.92,
    # 0.923), dev set 54 (first reading 0.803, 0.76/0.87, 0.843, 0.769, 0.97/0.90, 0.936).
    "dev53": {"kind.macro_f1": 0.878, "complaint.recall": 0.823, "complaint.precision": 0.895,
             "category.accuracy": 0.919, "urgency.macro_f1": 0.892, "emergency.recall": 0.947,
             "emergency.precision": 0.973, "scope.accuracy": 0.923},
    "dev54": {"kind.macro_f1": 0.822, "complaint.recall": 0.789, "complaint.precision": 0.875,
             "category.accuracy": 0.843, "urgency.macro_f1": 0.79, "emergency.recall": 1.0,
             "emergency.precision": 0.974, "scope.accuracy": 0.936},
    # Sealed, written at the start of the eighth session of 2026-12-06 and scored when it came
    # (0.847, 0.62/0.97, 0.833, 0.829, 0.94/0.77, 0.897: complaints told without complaint
    # words are what it finds hardest) and after the session's rounds.
    "blind43": {"kind.macro_f1": 0.846, "complaint.recall": 0.623, "complaint.precision": 0.95,
               "category.accuracy": 0.833, "urgency.macro_f1": 0.829, "emergency.recall": 0.944,
               "emergency.precision": 0.773, "scope.accuracy": 0.897},
    # Ninth session of 2026-12-06: blind set 44 sealed (scored when it came, and unchanged by
    # the session's rules), dev set 55 read (first reading 0.928, 0.93/0.93, 0.917, 0.934,
    # 0.975/0.907, 0.937), both written from the taxonomy alone.
    "blind44": {"kind.macro_f1": 0.944, "complaint.recall": 0.908, "complaint.precision": 0.937,
               "category.accuracy": 0.946, "urgency.macro_f1": 0.88, "emergency.recall": 1.0,
               "emergency.precision": 0.833, "scope.accuracy": 0.941},
    "dev55": {"kind.macro_f1": 0.936, "complaint.recall": 0.957, "complaint.precision": 0.931,
             "category.accuracy": 0.927, "urgency.macro_f1": 0.946, "emergency.recall": 0.975,
             "emergency.precision": 0.951, "scope.accuracy": 0.941},
    # Tenth session of 2026-12-07, each scored once when it came, then read: dev set 56 (first
    # reading 0.946, 0.96/0.95, 0.936, 0.896, 1.00/0.77, 0.936), dev set 57, portal posts
    # (0.825, 0.86/0.95, 0.888, 0.805, 1.00/0.78, 0.957), dev set 58 (0.847, 0.93/0.90, 0.912,
    # 0.912, 1.00/0.77, 0.935).
    "dev56": {"kind.macro_f1": 0.946, "complaint.recall": 0.957, "complaint.precision": 0.947,
             "category.accuracy": 0.936, "urgency.macro_f1": 0.914, "emergency.recall": 1.0,
             "emergency.precision": 0.852, "scope.accuracy": 0.936},
    "dev57": {"kind.macro_f1": 0.825, "complaint.recall": 0.862, "complaint.precision": 0.953,
             "category.accuracy": 0.888, "urgency.macro_f1": 0.823, "emergency.recall": 1.0,
             "emergency.precision": 0.875, "scope.accuracy": 0.957},
    # Sealed: the forty-seventh blind set, scored once (the session's first and last rules alike).
    "blind47": {"kind.macro_f1": 0.866, "complaint.recall": 0.929, "complaint.precision": 0.804,
               "category.accuracy": 0.884, "urgency.macro_f1": 0.849, "emergency.recall": 0.947,
               "emergency.precision": 0.75, "scope.accuracy": 0.94},
    "dev58": {"kind.macro_f1": 0.869, "complaint.recall": 0.94, "complaint.precision": 0.908,
             "category.accuracy": 0.912, "urgency.macro_f1": 0.913, "emergency.recall": 1.0,
             "emergency.precision": 0.811, "scope.accuracy": 0.935},
    # the fiftieth blind set, scored once sealed (2026-12-07, twelfth session: kind 0.862,
    # complaint 0.81/0.84, category 0.926, urgency 0.871, emergency 0.96/0.69, scope 0.921
    # with the session's starting classifier), then read: these are after
    "dev59": {"kind.macro_f1": 0.881, "complaint.recall": 0.843, "complaint.precision": 0.881,
              "category.accuracy": 0.931, "urgency.macro_f1": 0.885, "emergency.recall": 0.962,
              "emergency.precision": 0.735, "scope.accuracy": 0.921},
    # the fifty-first, sealed in the twelfth session (its final classifier: kind 0.842,
    # complaint 0.86/0.86, category 0.880, urgency 0.859, emergency 0.92/0.83, scope 0.898),
    # read in the thirteenth: these are after
    "dev60": {"kind.macro_f1": 0.858, "complaint.recall": 0.861, "complaint.precision": 0.873,
              "category.accuracy": 0.884, "urgency.macro_f1": 0.878, "emergency.recall": 1.0,
              "emergency.precision": 0.867, "scope.accuracy": 0.898},
    # the fifty-second, scored once when it came with the thirteenth session's starting
    # classifier (kind 0.933, complaint 0.96/0.92, category 0.924, urgency 0.884, emergency
    # 0.96/0.74, scope 0.937), then read: these are after
    "dev61": {"kind.macro_f1": 0.933, "complaint.recall": 0.957, "complaint.precision": 0.918,
              "category.accuracy": 0.919, "urgency.macro_f1": 0.913, "emergency.recall": 1.0,
              "emergency.precision": 0.857, "scope.accuracy": 0.937},
    # the fifty-fourth, scored once when it came with the thirteenth session's starting
    # classifier (kind 0.899, complaint 0.95/0.93, category 0.918, urgency 0.871, emergency
    # 0.96/0.82, scope 0.941), then read: these are after
    "dev62": {"kind.macro_f1": 0.899, "complaint.recall": 0.953, "complaint.precision": 0.927,
              "category.accuracy": 0.927, "urgency.macro_f1": 0.898, "emergency.recall": 1.0,
              "emergency.precision": 0.923, "scope.accuracy": 0.941},
    # the fifty-fifth, sealed: written beside the fifty-fourth; its starting figures (kind
    # 0.909, complaint 0.91/0.94, category 0.877, urgency 0.853, emergency 1.00/0.77, scope
    # 0.945); below, after the rules read from the fifty-fourth
    "blind55": {"kind.macro_f1": 0.909, "complaint.recall": 0.91, "complaint.precision": 0.938,
                "category.accuracy": 0.877, "urgency.macro_f1": 0.869, "emergency.recall": 1.0,
                "emergency.precision": 0.8, "scope.accuracy": 0.945},
    # the fifty-sixth, scored once when it came with the thirteenth session's starting
    # classifier (kind 0.935, complaint 0.99/0.94, category 0.890, urgency 0.898, emergency
    # 0.96/0.77, scope 0.945), then read: these are after
    "dev63": {"kind.macro_f1": 0.943, "complaint.recall": 0.989, "complaint.precision": 0.939,
              "category.accuracy": 0.89, "urgency.macro_f1": 0.926, "emergency.recall": 1.0,
              "emergency.precision": 0.889, "scope.accuracy": 0.945},
    # the fifty-seventh, sealed: written beside the fifty-sixth (kind 0.867, complaint
    # 0.95/0.91, category 0.858, urgency 0.836, emergency 0.96/0.77, scope 0.927 with the
    # session's starting classifier and after the rules read from the fifty-sixth alike)
    "blind57": {"kind.macro_f1": 0.867, "complaint.recall": 0.946, "complaint.precision": 0.907,
                "category.accuracy": 0.858, "urgency.macro_f1": 0.836, "emergency.recall": 0.958,
                "emergency.precision": 0.767, "scope.accuracy": 0.927},
    # the fifty-ninth, scored once when it came with the thirteenth session's starting
    # classifier (kind 0.840, complaint 0.85/0.94, category 0.898, urgency 0.827, emergency
    # 1.00/0.62, scope 0.969), then read (chosen over the fifty-eighth for its false alarms,
    # after both were scored): these are after
    "dev64": {"kind.macro_f1": 0.84, "complaint.recall": 0.853, "complaint.precision": 0.942,
              "category.accuracy": 0.903, "urgency.macro_f1": 0.866, "emergency.recall": 1.0,
              "emergency.precision": 0.75, "scope.accuracy": 0.969},
    # the fifty-eighth, sealed: written beside the fifty-ninth (the same figures with the
    # session's starting classifier and after the rules read from the fifty-ninth)
    "blind58": {"kind.macro_f1": 0.941, "complaint.recall": 0.958, "complaint.precision": 0.948,
                "category.accuracy": 0.915, "urgency.macro_f1": 0.917, "emergency.recall": 1.0,
                "emergency.precision": 0.889, "scope.accuracy": 0.973},
    # the sixtieth, scored once when it came with the fourteenth session's starting
    # classifier (kind 0.913, complaint 0.97/0.96, category 0.931, urgency 0.901, emergency
    # 0.97/0.83, scope 0.917), then read: these are after
    "dev65": {"kind.macro_f1": 0.935, "complaint.recall": 0.968, "complaint.precision": 0.957,
              "category.accuracy": 0.931, "urgency.macro_f1": 0.928, "emergency.recall": 1.0,
              "emergency.precision": 0.972, "scope.accuracy": 0.917},
    # the sixty-first, sealed: written beside the sixtieth (kind 0.904, complaint 0.93/0.93,
    # category 0.949, urgency 0.903, emergency 1.00/0.83, scope 0.931 with the session's
    # starting classifier; one false alarm fewer after the rules read from the sixtieth)
    "blind61": {"kind.macro_f1": 0.904, "complaint.recall": 0.927, "complaint.precision": 0.927,
                "category.accuracy": 0.949, "urgency.macro_f1": 0.913, "emergency.recall": 1.0,
                "emergency.precision": 0.872, "scope.accuracy": 0.931},
    # the sixty-second, scored once when it came (kind 0.924, complaint 0.93/0.94, category
    # 0.912, urgency 0.918, emergency 0.97/0.87, scope 0.958, the same with the session's
    # starting classifier), then read: these are after
    "dev66": {"kind.macro_f1": 0.924, "complaint.recall": 0.926, "complaint.precision": 0.943,
              "category.accuracy": 0.907, "urgency.macro_f1": 0.928, "emergency.recall": 1.0,
              "emergency.precision": 0.943, "scope.accuracy": 0.958},
    # the sixty-third, sealed: written beside the sixty-second (the same figures with the
    # session's starting classifier, when it came, and after the rules read from the
    # sixty-second)
    "blind63": {"kind.macro_f1": 0.945, "complaint.recall": 0.953, "complaint.precision": 0.953,
                "category.accuracy": 0.913, "urgency.macro_f1": 0.905, "emergency.recall": 1.0,
                "emergency.precision": 0.769, "scope.accuracy": 0.959},
    # the sixty-fourth, scored once when it came (kind 0.904, complaint 0.85/0.94, category
    # 0.847, urgency 0.880, emergency 0.97/0.93, scope 0.921, the same with the session's
    # starting classifier), then read: these are after
    "dev67": {"kind.macro_f1": 0.915, "complaint.recall": 0.885, "complaint.precision": 0.944,
              "category.accuracy": 0.856, "urgency.macro_f1": 0.893, "emergency.recall": 1.0,
              "emergency.precision": 0.974, "scope.accuracy": 0.921},
    # the sixty-fifth, sealed: written beside the sixty-fourth (kind 0.904, complaint
    # 0.91/0.94, category 0.898, urgency 0.845, emergency 0.94/0.83 with the session's
    # starting classifier; two of its 35 emergencies missed)
    "blind65": {"kind.macro_f1": 0.907, "complaint.recall": 0.917, "complaint.precision": 0.936,
                "category.accuracy": 0.898, "urgency.macro_f1": 0.845, "emergency.recall": 0.943,
                "emergency.precision": 0.825, "scope.accuracy": 0.931},
    # the sixty-sixth, scored once when it came (kind 0.931, complaint 0.91/0.95, category
    # 0.908, urgency 0.896, emergency 0.97/0.91, scope 0.913, the same with the session's
    # starting classifier), then read: these are after
    "dev68": {"kind.macro_f1": 0.931, "complaint.recall": 0.906, "complaint.precision": 0.946,
              "category.accuracy": 0.913, "urgency.macro_f1": 0.916, "emergency.recall": 1.0,
              "emergency.precision": 0.97, "scope.accuracy": 0.913},
    # the sixty-seventh, sealed: written beside the sixty-sixth (the same figures with the
    # session's starting classifier and after the rules read from the sixty-sixth)
    "blind67": {"kind.macro_f1": 0.912, "complaint.recall": 0.926, "complaint.precision": 0.898,
                "category.accuracy": 0.921, "urgency.macro_f1": 0.888, "emergency.recall": 1.0,
                "emergency.precision": 0.886, "scope.accuracy": 0.935},
    # the sixty-eighth, scored once when it came (kind 0.896, complaint 0.80/0.96, category
    # 0.917, urgency 0.846, emergency 0.86/0.90, scope 0.898, the same with the session's
    # starting classifier), then read: these are after
    "dev69": {"kind.macro_f1": 0.896, "complaint.recall": 0.802, "complaint.precision": 0.963,
              "category.accuracy": 0.912, "urgency.macro_f1": 0.883, "emergency.recall": 0.976,
              "emergency.precision": 1.0, "scope.accuracy": 0.898},
    # the sixty-ninth, sealed: written beside the sixty-eighth (the same figures with the
    # session's starting classifier and after the rules read from the sixty-eighth; three of
    # its 45 emergencies missed)
    "blind69": {"kind.macro_f1": 0.929, "complaint.recall": 0.885, "complaint.precision": 0.955,
                "category.accuracy": 0.949, "urgency.macro_f1": 0.936, "emergency.recall": 0.933,
                "emergency.precision": 0.955, "scope.accuracy": 0.963},
    # the seventieth (voice-typed and hurried messages), scored once when it came (kind 0.840,
    # complaint 0.96/0.82, category 0.936, urgency 0.833, emergency 1.00/0.89, scope 0.936,
    # with the session's starting classifier), then read: these are after
    "dev70": {"kind.macro_f1": 0.868, "complaint.recall": 0.962, "complaint.precision": 0.833,
            "category.accuracy": 0.941, "urgency.macro_f1": 0.872, "emergency.recall": 1.0,
            "emergency.precision": 0.969, "scope.accuracy": 0.941},
    # the seventy-first, sealed: written beside the seventieth (kind 0.857, complaint
    # 0.95/0.86, category 0.955, urgency 0.831, emergency 0.97/0.74, scope 0.955 with the
    # session's starting classifier; one of its 30 emergencies missed)
    "blind71": {"kind.macro_f1": 0.88, "complaint.recall": 0.95, "complaint.precision": 0.905,
              "category.accuracy": 0.955, "urgency.macro_f1": 0.851, "emergency.recall": 0.967,
              "emergency.precision": 0.763, "scope.accuracy": 0.955},
    # the seventy-second (a northern winter), scored once when it came (kind 0.868, complaint
    # 0.84/0.94, category 0.842, urgency 0.837, emergency 0.96/0.74, scope 0.937, with the
    # session's starting classifier), then read: these are after
    "dev71": {"kind.macro_f1": 0.875, "complaint.recall": 0.877, "complaint.precision": 0.943,
            "category.accuracy": 0.851, "urgency.macro_f1": 0.869, "emergency.recall": 1.0,
            "emergency.precision": 0.867, "scope.accuracy": 0.937},
    # the seventy-third, sealed: written beside the seventy-second (kind 0.931, complaint
    # 0.98/0.89, category 0.951, urgency 0.917, emergency 0.97/0.94, scope 0.969 with the
    # session's starting classifier; one of its 33 emergencies missed)
    "blind73": {"kind.macro_f1": 0.931, "complaint.recall": 0.983, "complaint.precision": 0.891,
              "category.accuracy": 0.951, "urgency.macro_f1": 0.92, "emergency.recall": 0.97,
              "emergency.precision": 0.97, "scope.accuracy": 0.969},
    # the seventy-fourth (a house chat's lines pasted into the bot), scored once when it came
    # (kind 0.913, complaint 0.92/0.92, category 0.924, urgency 0.881, emergency 0.94/0.80,
    # scope 0.948, with the session's starting classifier), then read: these are after
    "dev72": {"kind.macro_f1": 0.913, "complaint.recall": 0.918, "complaint.precision": 0.918,
            "category.accuracy": 0.929, "urgency.macro_f1": 0.923, "emergency.recall": 1.0,
            "emergency.precision": 0.971, "scope.accuracy": 0.948},
    # the seventy-fifth, sealed: written beside the seventy-fourth (kind 0.944, complaint
    # 0.98/0.95, category 0.947, urgency 0.907, emergency 0.94/0.81, scope 0.938 with the
    # session's starting classifier; two of its 31 emergencies missed, one found since)
    "blind75": {"kind.macro_f1": 0.944, "complaint.recall": 0.982, "complaint.precision": 0.949,
              "category.accuracy": 0.947, "urgency.macro_f1": 0.912, "emergency.recall": 0.968,
              "emergency.precision": 0.811, "scope.accuracy": 0.938},
    # the seventy-sixth (older residents' long letters, a story before the matter), scored
    # once when it came (kind 0.784, complaint 1.00/0.61, category 0.895, urgency 0.868,
    # emergency 0.96/0.71, scope 0.943, with the session's starting classifier), then read
    "dev73": {"kind.macro_f1": 0.8, "complaint.recall": 1.0, "complaint.precision": 0.625,
            "category.accuracy": 0.895, "urgency.macro_f1": 0.898, "emergency.recall": 1.0,
            "emergency.precision": 0.862, "scope.accuracy": 0.943},
    # the seventy-seventh, sealed: written beside the seventy-sixth (kind 0.832, complaint
    # 1.00/0.67, category 0.890, urgency 0.825, emergency 1.00/0.65, scope 0.924 with the
    # session's starting classifier; the text of one of its messages, a thank-you letter,
    # was seen in a diff after the rules it moved with were written)
    "blind77": {"kind.macro_f1": 0.832, "complaint.recall": 1.0, "complaint.precision": 0.667,
              "category.accuracy": 0.9, "urgency.macro_f1": 0.844, "emergency.recall": 1.0,
              "emergency.precision": 0.727, "scope.accuracy": 0.924},
    # the seventy-eighth (English-speaking residents, every kind of English), scored once
    # when it came (kind 0.885, complaint 0.92/0.84, category 0.898, urgency 0.843, emergency
    # 0.97/0.71, scope 0.898, with the session's starting classifier), then read
    "dev74": {"kind.macro_f1": 0.885, "complaint.recall": 0.915, "complaint.precision": 0.844,
            "category.accuracy": 0.903, "urgency.macro_f1": 0.895, "emergency.recall": 1.0,
            "emergency.precision": 0.882, "scope.accuracy": 0.898},
    # the seventy-ninth, sealed: written beside the seventy-eighth (the same figures with the
    # session's starting classifier)
    "blind79": {"kind.macro_f1": 0.909, "complaint.recall": 0.943, "complaint.precision": 0.917,
              "category.accuracy": 0.874, "urgency.macro_f1": 0.837, "emergency.recall": 1.0,
              "emergency.precision": 0.732, "scope.accuracy": 0.953},
    # the fifty-third, sealed: written beside the fifty-second, scored with the thirteenth
    # session's starting classifier and after each round of rules, never read
    "blind53": {"kind.macro_f1": 0.893, "complaint.recall": 0.948, "complaint.precision": 0.919,
                "category.accuracy": 0.937, "urgency.macro_f1": 0.88, "emergency.recall": 1.0,
                "emergency.precision": 0.8, "scope.accuracy": 0.95},
    "blind48": {"kind.macro_f1": 0.905, "complaint.recall": 0.928, "complaint.precision": 0.889,
                "category.accuracy": 0.884, "urgency.macro_f1": 0.8, "emergency.recall": 0.857,
                "emergency.precision": 0.72, "scope.accuracy": 0.938},
    "blind49": {"kind.macro_f1": 0.872, "complaint.recall": 0.859, "complaint.precision": 0.813,
                "category.accuracy": 0.874, "urgency.macro_f1": 0.816, "emergency.recall": 1.0,
                "emergency.precision": 0.656, "scope.accuracy": 0.919},
    # the sixteenth session's: dev sets 75-77 read (from the eightieth, eighty-second and
    # eighty-fourth), scored after the first round; the eighty-first, eighty-third and
    # eighty-fifth sealed, scored with the session's starting rules (the first round moved none)
    "dev75": {"kind.macro_f1": 0.87, "complaint.recall": 0.839, "complaint.precision": 0.922,
             "category.accuracy": 0.918, "urgency.macro_f1": 0.893, "emergency.recall": 0.979,
             "emergency.precision": 0.959, "scope.accuracy": 0.918},
    "blind81": {"kind.macro_f1": 0.835, "complaint.recall": 0.884, "complaint.precision": 0.623,
               "category.accuracy": 0.913, "urgency.macro_f1": 0.838, "emergency.recall": 0.979,
               "emergency.precision": 0.979, "scope.accuracy": 0.95},
    "dev76": {"kind.macro_f1": 0.908, "complaint.recall": 0.934, "complaint.precision": 0.95,
             "category.accuracy": 0.906, "urgency.macro_f1": 0.859, "emergency.recall": 0.952,
             "emergency.precision": 0.769, "scope.accuracy": 0.96},
    "blind83": {"kind.macro_f1": 0.913, "complaint.recall": 0.896, "complaint.precision": 0.987,
               "category.accuracy": 0.952, "urgency.macro_f1": 0.918, "emergency.recall": 0.944,
               "emergency.precision": 0.85, "scope.accuracy": 0.947},
    "dev77": {"kind.macro_f1": 0.927, "complaint.recall": 0.886, "complaint.precision": 0.848,
             "category.accuracy": 0.926, "urgency.macro_f1": 0.9, "emergency.recall": 0.988,
             "emergency.precision": 0.92, "scope.accuracy": 0.965},
    "blind85": {"kind.macro_f1": 0.892, "complaint.recall": 0.927, "complaint.precision": 0.76,
               "category.accuracy": 0.897, "urgency.macro_f1": 0.891, "emergency.recall": 0.912,
               "emergency.precision": 0.936, "scope.accuracy": 0.936},
    # later that session: dev sets 78 and 79 read (from the eighty-sixth and eighty-eighth),
    # scored after their round; the eighty-seventh and eighty-ninth sealed, scored when they
    # came (the same with the session's starting rules) and after that round (unchanged)
    "dev78": {"kind.macro_f1": 0.98, "complaint.recall": 1.0, "complaint.precision": 0.968,
             "category.accuracy": 0.963, "urgency.macro_f1": 0.916, "emergency.recall": 1.0,
             "emergency.precision": 0.969, "scope.accuracy": 0.926},
    "blind87": {"kind.macro_f1": 0.939, "complaint.recall": 0.9, "complaint.precision": 0.947,
               "category.accuracy": 0.936, "urgency.macro_f1": 0.91, "emergency.recall": 0.984,
               "emergency.precision": 0.94, "scope.accuracy": 0.945},
    "dev79": {"kind.macro_f1": 0.904, "complaint.recall": 0.961, "complaint.precision": 0.924,
             "category.accuracy": 0.93, "urgency.macro_f1": 0.852, "emergency.recall": 1.0,
             "emergency.precision": 1.0, "scope.accuracy": 0.939},
    "blind89": {"kind.macro_f1": 0.917, "complaint.recall": 0.969, "complaint.precision": 0.912,
               "category.accuracy": 0.964, "urgency.macro_f1": 0.941, "emergency.recall": 0.976,
               "emergency.precision": 1.0, "scope.accuracy": 0.95},
    # 2026-12-08: dev set 80 (faults told with a recalculation) read for rules; the
    # ninety-first blind set, written beside it, sealed: scored after the session's first
    # rule change and with its last
    "dev80": {"kind.macro_f1": 0.930, "complaint.recall": 0.887, "complaint.precision": 0.870,
              "category.accuracy": 0.955, "urgency.macro_f1": 0.939, "emergency.recall": 1.0,
              "emergency.precision": 0.984, "scope.accuracy": 0.950},
    "blind91": {"kind.macro_f1": 0.947, "complaint.recall": 0.986, "complaint.precision": 0.986,
                "category.accuracy": 0.946, "urgency.macro_f1": 0.931, "emergency.recall": 0.958,
                "emergency.precision": 0.885, "scope.accuracy": 0.946},
}
SIZES = {"blind5": 200, "blind6": 200, "blind7": 240, "blind8": 240, "blind9": 240, "blind10": 240,
         "blind11": 240, "blind12": 240, "blind13": 240, "blind14": 240, "blind15": 240,
         "blind16": 240, "blind17": 240, "emergency-dev": 200, "emergency-dev2": 200, "dev10": 240,
         "dev11": 240, "dev12": 240, "dev13": 240, "dev14": 220, "dev15": 240, "dev16": 220,
         "dev17": 240, "dev18": 220, "dev19": 200, "dev20": 200, "dev21": 200, "blind18": 240,
         "dev22": 200, "blind19": 240, "dev23": 300, "dev24": 240, "blind20": 240, "dev25": 300,
         "blind21": 240, "dev26": 300, "blind22": 240, "dev27": 300, "blind23": 240, "dev28": 300,
         "blind24": 240, "emergency-dev3": 260, "dev29": 300, "blind25": 240, "dev30": 300,
         "blind26": 240, "emergency-dev4": 260, "blind27": 240, "dev31": 300, "blind28": 240,
         "emergency-dev5": 300, "blind29": 240, "dev32": 300, "blind30": 240,
         "emergency-dev6": 300, "dev33": 300, "blind31": 240, "dev34": 300, "blind32": 240,
         "dev35": 300, "blind33": 240, "dev36": 300, "blind34": 240,
         "dev37": 300, "emergency-dev7": 300, "blind35": 240,
         "emergency-dev8": 260, "emergency-dev9": 260, "blind36": 240,
         "emergency-dev10": 260, "blind37": 240, "dev38": 300, "blind38": 240,
         "emergency-dev11": 260, "blind39": 240, "emergency-dev12": 240,
         "dev39": 240, "emergency-dev13": 260, "blind40": 240,
         "dev40": 240, "dev41": 240, "blind41": 240, "blind42": 240,
         "dev42": 240, "dev43": 240, "dev44": 240,
         "dev45": 240, "dev46": 240, "dev47": 240, "emergency-dev14": 240,
         "dev48": 240, "dev49": 240, "dev50": 200, "blind43": 240, "dev51": 240,
         "dev52": 240, "dev53": 240, "dev54": 240, "blind44": 240, "dev55": 240,
         "dev56": 260, "dev57": 120, "dev58": 240, "blind47": 240,
         "blind48": 240, "blind49": 240, "dev59": 240, "dev60": 240,
         "dev61": 240, "blind53": 240,
         "dev62": 240, "blind55": 240, "dev63": 240, "blind57": 240,
         "dev64": 240, "blind58": 240, "dev65": 240, "blind61": 240,
         "dev66": 240, "blind63": 240, "dev67": 240, "blind65": 240,
         "dev68": 240, "blind67": 240, "dev69": 240, "blind69": 240,
         "dev70": 240, "blind71": 240, "dev71": 240, "blind73": 240,
         "dev72": 240, "blind75": 240, "dev73": 240, "blind77": 240,
         "dev74": 240, "blind79": 240, "dev75": 240, "blind81": 240, "dev76": 240,
         "blind83": 240, "dev77": 240, "blind85": 240, "dev78": 240, "blind87": 240,
         "dev79": 240, "blind89": 240, "dev80": 240, "blind91": 240}


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_labelled_set_holds_its_measured_quality(name: str) -> None:
    path = DATA / f"messages-{name}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) == SIZES[name] and len({r["id"] for r in rows}) == SIZES[name]
    scores = headline(evaluate(Classifier.default(), rows))
    low = {k: round(v, 3) for k, v in scores.items() if v < MEASURED[name][k] - MARGIN - 1e-9}
    assert not low, f"{name} fell below the measured numbers minus {MARGIN}: {low}"
