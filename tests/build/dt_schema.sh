#!/usr/bin/env bash
# library.dt_schema: the devicetree binding (docs/bindings/) says what the
# layout code (host/layout/layout.c) accepts. Every devicetree meant to be
# valid passes dt-validate with it; every broken fixture a schema can catch
# fails it with the finding its mistake causes; the broken fixtures no schema
# can catch are listed below with the reason, and must pass dt-validate, so
# that the list stays true when the schema learns more.
#
# Debian 12's dt-schema (2022.08) validates DTBs, not sources, so each file
# goes through dtc first; and it prints its findings but exits 0, so any
# output at all counts as a finding.
set -euo pipefail
root=$(cd "$1" && pwd)
cd "$root"

for tool in dtc dt-validate dt-mk-schema dt-doc-validate dt-extract-example; do
	if ! command -v "$tool" >/dev/null; then
		echo "dt_schema: $tool not found: install Debian's dt-schema and" \
			"device-tree-compiler packages (scripts/deps does)" >&2
		exit 1
	fi
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bindings=docs/bindings
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# fail, then show what the tool said.
fail_with() {
	fail "$1"
	sed 's/^/    /' "$2" >&2
}

# Files valid as they are: every example and test link, the valid unit
# fixtures (tests/unit/test_layout.c loads them without an error).
valid=(examples/dts/*.dts tests/integration/*.dts tests/uml/link.dts
	tests/unit/dts/valid.dts tests/unit/dts/valid-64bit.dts
	tests/unit/dts/cached-remote.dts tests/unit/dts/coherent-align16.dts)

# Broken fixtures the schema catches, each with (an extended regular
# expression) the finding its mistake must cause; one line per finding.
# mbox-not-mailbox: its mboxes point at a region without #mbox-cells, so the
# cells do not split into two doorbells. A target with #mbox-cells but no
# rpk,shm-mailbox compatible would pass; the layout code refuses that too.
caught="
tests/unit/dts/bad-role.dts|link-host: rpk,role:0: 'slave' is not one of
tests/unit/dts/cached-align16.dts|link-mcu: rpk,vring-align:0:0: 16 is less than the minimum of 64
tests/unit/dts/cached-value.dts|link-mcu: rpk,cached: .* is not of type 'boolean'
tests/unit/dts/firmware-region-cells.dts|link-host: rpk,firmware-region:0: .* is too long
tests/unit/dts/mbox-names-extra.dts|link-host: mbox-names: .* is too long
tests/unit/dts/mbox-not-mailbox.dts|link-host: mboxes: .* is too long
tests/unit/dts/memory-region-names-extra.dts|link-host: memory-region-names: .* is too long
tests/unit/dts/misaligned.dts|vring1@80012000:reg:0:0: [0-9]+ is not a multiple of 4096
tests/unit/dts/misaligned.dts|buffer@80020000:reg:0:1: [0-9]+ is not a multiple of 4096
tests/unit/dts/missing-mboxes.dts|link-host: 'mboxes' is a required property
tests/unit/dts/missing-memory-region.dts|link-mcu: 'memory-region' is a required property
tests/unit/dts/missing-reg.dts|vring1@80012000: 'reg' is a required property
tests/unit/dts/missing-role.dts|link-host: 'rpk,role' is a required property
tests/unit/dts/missing-rsc-size.dts|rsc-table@80000000: 'rpk,rsc-size' is a dependency of 'rpk,rsc-offset'
tests/unit/dts/missing-vring-num.dts|link-mcu: 'rpk,vring-num' is a required property
tests/unit/dts/several-errors.dts|link-host: rpk,role:0: 'slave' is not one of
tests/unit/dts/several-errors.dts|link-mcu: 'mboxes' is a required property
tests/unit/dts/several-errors.dts|buffer@80020000:reg:0:1: [0-9]+ is not a multiple of 4096
tests/unit/dts/trace-bad-cells.dts|rsc-table@80000000:rpk,trace-size:0: .* is too long
tests/topology/nested-link.dts|a: sides: 'compatible' is a required property
tests/topology/nested-processor.dts|a: b:compatible:0: 'rpk,rpmsg-link' was expected
"

# Broken fixtures no schema can catch: what is wrong lies between nodes, or in
# arithmetic over several values. The layout code refuses each.
uncatchable="
tests/unit/dts/cached-peer-align16.dts|rpk,vring-align 16 is too small only because the peer node is rpk,cached
tests/unit/dts/firmware-region-bad.dts|rpk,firmware-region names the mailbox, or one of the side's own regions: what a phandle points to
tests/unit/dts/memory-region-mailbox.dts|a memory-region entry points to the mailbox, not a reserved-memory node: what a phandle points to
tests/unit/dts/memory-region-not-region.dts|a memory-region entry points to a node outside /reserved-memory: what a phandle points to
tests/unit/dts/missing-rsc-offset.dts|a region needs rpk,rsc-offset only because a link node names it rsc-table
tests/unit/dts/overlap.dts|the reg ranges of two regions overlap
tests/cli/bad-overlap.dts|the reg ranges of two regions overlap
tests/unit/dts/pool-too-small.dts|the buffer region is smaller than the remote's rpk,vring-num needs (another node)
tests/unit/dts/rsc-too-big.dts|rpk,rsc-offset plus rpk,rsc-size runs past the region's reg size
tests/unit/dts/trace-too-big.dts|the trace buffer after the table (rounded up to 64) runs past the region's reg size
tests/unit/dts/vring-too-big.dts|the remote's rpk,vring-num and rpk,vring-align need more than the vring regions' reg size (other nodes)
tests/topology/duplicate-name.dts|two processors of one name, in nodes of different parents
tests/topology/empty-processor.dts|a processor without children: dt-schema's meta-schema has no keyword for at least one child
tests/topology/same-processor.dts|both sides of a link in one processor: which nodes share regions is what phandles point to
"

# Not a devicetree at all: dtc must refuse it, so there is nothing to validate.
uncompilable=(tests/unit/dts/syntax-error.dts)

# 1. The bindings themselves pass dt-schema's meta-schema, with examples that
#    pass the bindings.
for f in "$bindings"/*.yaml; do
	dt-doc-validate -u "$bindings" "$f" >"$out/doc.log" 2>&1 || true
	[ ! -s "$out/doc.log" ] || fail_with "$f is not a valid binding:" "$out/doc.log"
done

# 2. One processed schema (dt-mk-schema): ours and dt-schema's own, but for
#    root-node.yaml, which requires a board's compatible and model at the
#    root; a link's devicetree describes the link, not a board. (dt-validate
#    -s also takes a directory, but then adds every schema of its own.)
#    dt-schema's own schemas are found by the Python that runs dt-validate.
python=$(sed -n '1s/^#! *//p' "$(command -v dt-validate)")
core=$($python -c 'import dtschema, os; print(os.path.dirname(dtschema.__file__))')/schemas
mapfile -t core_schemas < <(find "$core" -name '*.yaml' ! -name root-node.yaml | sort)
if ! dt-mk-schema -u -o "$out/schema.yaml" "$bindings" "${core_schemas[@]}" >"$out/mk.log" 2>&1 ||
	[ -s "$out/mk.log" ]; then
	cat "$out/mk.log" >&2
	echo "FAIL: dt-mk-schema could not process the bindings" >&2
	exit 1
fi
# A binding dt-mk-schema skipped would validate nothing, and everything pass.
for f in "$bindings"/*.yaml; do
	id=$(sed -n 's/^\$id: *//p' "$f")
	grep -qF "$id" "$out/schema.yaml" || fail "$f ($id) is missing from the processed schema"
done

# Compile a source (dtc warnings count as findings when strict) and validate
# it; the findings, if any, are in $out/<name>.log. Returns 2 when dtc fails.
check() {
	local name=$1 src=$2 strict=$3 dtb=$out/$1.dtb log=$out/$1.log
	local quiet=-q
	[ "$strict" = 1 ] && quiet=
	dtc $quiet -I dts -O dtb -o "$dtb" "$src" >"$log" 2>&1 || return 2
	dt-validate -m -s "$out/schema.yaml" "$dtb" >>"$log" 2>&1 ||
		echo "dt-validate exited with status $?" >>"$log"
}

log_name() {
	echo "$1" | tr '/,' '__'
}

# 3. Valid devicetrees and the bindings' examples: not one finding.
for f in "${valid[@]}"; do
	n=$(log_name "$f")
	if ! check "$n" "$f" 1 || [ -s "$out/$n.log" ]; then
		fail_with "$f is meant to be valid:" "$out/$n.log"
	fi
done
for f in "$bindings"/*.yaml; do
	n=example-$(log_name "$(basename "$f")")
	dt-extract-example "$f" >"$out/$n.dts"
	if ! check "$n" "$out/$n.dts" 0 || [ -s "$out/$n.log" ]; then
		fail_with "the examples of $f:" "$out/$n.log"
	fi
done

# 4. Broken fixtures the schema catches: each finding they must cause.
while IFS='|' read -r f want; do
	[ -n "$f" ] || continue
	n=$(log_name "$f")
	[ -e "$out/$n.log" ] || check "$n" "$f" 0 || fail "$f: dtc cannot compile it"
	grep -qE -- "$want" "$out/$n.log" ||
		fail_with "$f: no finding matching \"$want\" in:" "$out/$n.log"
done <<<"$caught"

# 5. Broken fixtures no schema can catch pass; those dtc refuses stay refused.
while IFS='|' read -r f why; do
	[ -n "$f" ] || continue
	n=$(log_name "$f")
	if ! check "$n" "$f" 0 || [ -s "$out/$n.log" ]; then
		fail_with "$f is listed as beyond a schema ($why), but:" "$out/$n.log"
	fi
done <<<"$uncatchable"
for f in "${uncompilable[@]}"; do
	dtc -q -I dts -O dtb -o /dev/null "$f" 2>/dev/null && fail "$f: dtc compiles it"
done

# 6. Nothing skipped: every fixture is in exactly one of the lists above.
for f in tests/unit/dts/*.dts tests/cli/*.dts tests/topology/*.dts; do
	count=0
	for v in "${valid[@]}" "${uncompilable[@]}"; do
		[ "$v" = "$f" ] && count=$((count + 1))
	done
	grep -q "^$f|" <<<"$caught" && count=$((count + 1))
	grep -q "^$f|" <<<"$uncatchable" && count=$((count + 1))
	[ "$count" = 1 ] || fail "$f is in $count of the lists (valid, caught, uncatchable, uncompilable)"
done

if [ "$failures" != 0 ]; then
	echo "dt_schema: $failures failures" >&2
	exit 1
fi
echo "dt_schema: ${#valid[@]} valid devicetrees and the bindings' examples pass;" \
	"$(grep -c '|' <<<"$caught") findings in the broken fixtures seen;" \
	"$(grep -c '|' <<<"$uncatchable") fixtures beyond a schema pass as listed"
