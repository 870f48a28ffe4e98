#!/usr/bin/env bash
# Compares, on one generated corpus and in one run:
#   zcat of every file to /dev/null          (the floor: decompression alone)
#   trailalarm scan --workers 1              (one core)
#   trailalarm scan                          (all cores)
#   jq evaluating the 14 CIS v1.2 conditions (what people use today)
# and prints the times with their ratios to zcat.
#
# Usage: bench/scan.sh [SIZE] [DIR]   (default 1GB of uncompressed CloudTrail, in bench/out/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1GB}
dir=${2:-bench/out/corpus-$size}
bin=bench/out/trailalarm
mkdir -p bench/out
go build -o "$bin" ./cmd/trailalarm
command -v jq >/dev/null || { echo "bench/scan.sh: jq is not installed (apt-get install jq)" >&2; exit 2; }

if [ ! -d "$dir" ]; then
  echo "generating $size of CloudTrail in $dir ..." >&2
  "$bin" generate --out "$dir" --size "$size" --seed 1
fi
mapfile -t files < <(find "$dir" -name '*.json.gz' | sort)
compressed=$(du -cb "${files[@]}" | tail -1 | cut -f1)
uncompressed=$(zcat "${files[@]}" | wc -c)
echo "corpus: ${#files[@]} files, $((compressed / 1000000)) MB gzip, $((uncompressed / 1000000)) MB uncompressed; $(nproc) cores"

# The 14 CIS v1.2 conditions in jq; != on a missing field is false, as in CloudWatch Logs.
jqfilter='
def s(f): (f | type) == "string";
def ne(f; v): s(f) and f != v;
def any_of(f; xs): (f | type) == "string" and ([f] | inside(xs));
.Records[] | select(
  (s(.errorCode) and ((.errorCode | endswith("UnauthorizedOperation")) or (.errorCode | startswith("AccessDenied"))))
  or (.eventName == "ConsoleLogin" and ne(.additionalEventData.MFAUsed; "Yes"))
  or (.userIdentity.type == "Root" and ((.userIdentity // {}) | has("invokedBy") | not) and ne(.eventType; "AwsServiceEvent"))
  or any_of(.eventName; ["DeleteGroupPolicy","DeleteRolePolicy","DeleteUserPolicy","PutGroupPolicy","PutRolePolicy","PutUserPolicy","CreatePolicy","DeletePolicy","CreatePolicyVersion","DeletePolicyVersion","AttachRolePolicy","DetachRolePolicy","AttachUserPolicy","DetachUserPolicy","AttachGroupPolicy","DetachGroupPolicy"])
  or any_of(.eventName; ["CreateTrail","UpdateTrail","DeleteTrail","StartLogging","StopLogging"])
  or (.eventName == "ConsoleLogin" and .errorMessage == "Failed authentication")
  or (.eventSource == "kms.amazonaws.com" and any_of(.eventName; ["DisableKey","ScheduleKeyDeletion"]))
  or (.eventSource == "s3.amazonaws.com" and any_of(.eventName; ["PutBucketAcl","PutBucketPolicy","PutBucketCors","PutBucketLifecycle","PutBucketReplication","DeleteBucketPolicy","DeleteBucketCors","DeleteBucketLifecycle","DeleteBucketReplication"]))
  or (.eventSource == "config.amazonaws.com" and any_of(.eventName; ["StopConfigurationRecorder","DeleteDeliveryChannel","PutDeliveryChannel","PutConfigurationRecorder"]))
  or any_of(.eventName; ["AuthorizeSecurityGroupIngress","AuthorizeSecurityGroupEgress","RevokeSecurityGroupIngress","RevokeSecurityGroupEgress","CreateSecurityGroup","DeleteSecurityGroup"])
  or any_of(.eventName; ["CreateNetworkAcl","CreateNetworkAclEntry","DeleteNetworkAcl","DeleteNetworkAclEntry","ReplaceNetworkAclEntry","ReplaceNetworkAclAssociation"])
  or any_of(.eventName; ["CreateCustomerGateway","DeleteCustomerGateway","AttachInternetGateway","CreateInternetGateway","DeleteInternetGateway","DetachInternetGateway"])
  or any_of(.eventName; ["CreateRoute","CreateRouteTable","ReplaceRoute","ReplaceRouteTableAssociation","DeleteRouteTable","DeleteRoute","DisassociateRouteTable"])
  or any_of(.eventName; ["CreateVpc","DeleteVpc","ModifyVpcAttribute","AcceptVpcPeeringConnection","CreateVpcPeeringConnection","DeleteVpcPeeringConnection","RejectVpcPeeringConnection","AttachClassicLinkVpc","DetachClassicLinkVpc","DisableVpcClassicLink","EnableVpcClassicLink"])
) | .eventID'

# seconds CMD...: wall-clock seconds of one run, output discarded.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
seconds_jq() { # the jq pipeline: zcat | jq
  local start end
  start=$(date +%s.%N)
  zcat "${files[@]}" | jq -r "$jqfilter" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
best() { # best of 3
  local b="" t
  for _ in 1 2 3; do
    t=$(seconds "$@")
    if [ -z "$b" ] || (( $(echo "$t < $b" | bc -l) )); then b=$t; fi
  done
  echo "$b"
}

t_zcat=$(best zcat "${files[@]}")
t_one=$(best "$bin" scan --pack cis-1.2 --workers 1 --format jsonl --progress never "$dir")
t_all=$(best "$bin" scan --pack cis-1.2 --format jsonl --progress never "$dir")
jqmatches=$(zcat "${files[@]}" | jq -r "$jqfilter" | wc -l)
scanmatches=$("$bin" scan --pack cis-1.2 --format jsonl --progress never "$dir" | jq -r .eventID | sort -u | wc -l)
t_jq=$(seconds_jq)

row() { printf '%-34s %8.2f s  %7.0f MB/s  %6.2fx zcat\n' "$1" "$2" "$(echo "$uncompressed / 1000000 / $2" | bc -l)" "$(echo "$2 / $t_zcat" | bc -l)"; }
echo
row "zcat (floor)" "$t_zcat"
row "trailalarm scan --workers 1" "$t_one"
row "trailalarm scan ($(nproc) workers)" "$t_all"
row "jq, 14 CIS v1.2 conditions" "$t_jq"
printf '\njq is %.1fx slower than trailalarm scan; matched events: jq %d, scan %d (distinct eventIDs)\n' \
  "$(echo "$t_jq / $t_all" | bc -l)" "$jqmatches" "$scanmatches"
