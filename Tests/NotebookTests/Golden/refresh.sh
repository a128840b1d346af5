#!/usr/bin/env bash
# Rewrites the golden transcripts from the chapters built in BIN (default .build/release), with
# the arguments ChapterRunTests.swift runs them with, cut where that test cuts them. Run it after
# an intended change to what a chapter prints before its timings, then read the diff.
set -euo pipefail
cd "$(dirname "$0")/../../.."
bin=${BIN:-.build/release}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
golden=Tests/NotebookTests/Golden
# The deterministic part of a transcript: everything before the line "## <section>".
# (sed reads to the end, so the chapter is never cut off by a closed pipe.)
cut_before() { sed "/^## ${1//./\\.}/,\$d"; }
"$bin/tensors" --size 64 --repeats 1 --threads 2 --output "$out/t" | cut_before 1.4 > "$golden/tensors.txt"
"$bin/convolutions" --threads 2 --output "$out/c" | cut_before 2.7 > "$golden/convolutions.txt"
"$bin/lenet" --epochs 1 --train-limit 512 --test-limit 256 --threads 2 --output "$out/l" \
    | cut_before 3.3 > "$golden/lenet.txt"
"$bin/alexnet" --skip-experiments --train-limit 64 --test-limit 32 --batch-size 32 --threads 2 \
    --output "$out/a" | cut_before 4.4 > "$golden/alexnet.txt"
"$bin/vgg" --skip-experiments --train-limit 256 --test-limit 64 --batch-size 32 --threads 2 \
    --output "$out/v" | cut_before 5.5 > "$golden/vgg.txt"
"$bin/nin" --skip-experiments --train-limit 256 --test-limit 64 --batch-size 32 --threads 2 \
    --output "$out/n" | cut_before 6.4 > "$golden/nin.txt"
"$bin/googlenet" --skip-experiments --train-limit 256 --test-limit 64 --batch-size 32 --threads 2 \
    --output "$out/g" | cut_before 7.4 > "$golden/googlenet.txt"
git diff --stat -- "$golden"
