-- SPDX-License-Identifier: BSD-3-Clause
-- A Wireshark/tshark dissector for the captures `rpk trace --messages
-- --pcap FILE` writes: pcap link type USER0 (147), each record
--   4 bytes   rpmsg-kit pseudo-header: version (1), direction (0 TX, 1 RX
--             as the tracing node saw it), 2 bytes zero
--   16 bytes  the rpmsg header as Linux lays it out, little-endian:
--             src u32, dst u32, reserved u32, len u16, flags u16
--   len bytes the payload (fewer if the node cut a long one)
-- and a message to address 53 decoded as a name-service announcement
-- (name[32], addr u32, flags u32: 0 create, 1 destroy).
--
--   tshark -X lua_script:rpmsg.lua -r capture.pcap -V
--   tshark -X lua_script:rpmsg.lua -r capture.pcap -T fields -e rpmsg.src -e rpmsg.ns.name

local rpmsg = Proto("rpmsg", "RPMsg (rpmsg-kit capture)")

local directions = { [0] = "TX", [1] = "RX" }
local ns_flags = { [0] = "create", [1] = "destroy" }
local NS_ADDR = 53
local NS_SIZE = 40

local f = {
	version = ProtoField.uint8("rpmsg.capture_version", "Capture format", base.DEC),
	dir = ProtoField.uint8("rpmsg.dir", "Direction", base.DEC, directions),
	src = ProtoField.uint32("rpmsg.src", "Source", base.HEX),
	dst = ProtoField.uint32("rpmsg.dst", "Destination", base.HEX),
	reserved = ProtoField.uint32("rpmsg.reserved", "Reserved", base.HEX),
	len = ProtoField.uint16("rpmsg.len", "Length", base.DEC),
	flags = ProtoField.uint16("rpmsg.flags", "Flags", base.HEX),
	payload = ProtoField.bytes("rpmsg.payload", "Payload"),
	ns_name = ProtoField.string("rpmsg.ns.name", "Service name"),
	ns_addr = ProtoField.uint32("rpmsg.ns.addr", "Service address", base.HEX),
	ns_flags = ProtoField.uint32("rpmsg.ns.flags", "Announcement", base.DEC, ns_flags),
}
rpmsg.fields = f

local e_short = ProtoExpert.new("rpmsg.short", "Record shorter than the rpmsg header",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_cut = ProtoExpert.new("rpmsg.cut", "Payload cut: the header's length is more than was captured",
	expert.group.UNDECODED, expert.severity.NOTE)
local e_version = ProtoExpert.new("rpmsg.version", "Unknown rpmsg-kit capture format",
	expert.group.MALFORMED, expert.severity.ERROR)
rpmsg.experts = { e_short, e_cut, e_version }

local function dissect_ns(buf, tree)
	local ns = tree:add(rpmsg, buf(0, NS_SIZE), "Name service")
	ns:add(f.ns_name, buf(0, 32))
	ns:add_le(f.ns_addr, buf(32, 4))
	ns:add_le(f.ns_flags, buf(36, 4))
	local flags = buf(36, 4):le_uint()
	return string.format("Name service: %s \"%s\" at 0x%x", ns_flags[flags] or "unknown",
		buf(0, 32):stringz(), buf(32, 4):le_uint())
end

function rpmsg.dissector(buf, pinfo, root)
	pinfo.cols.protocol = "RPMsg"
	local tree = root:add(rpmsg, buf())
	if buf:len() < 4 + 16 then
		tree:add_proto_expert_info(e_short)
		return
	end
	tree:add(f.version, buf(0, 1))
	if buf(0, 1):uint() ~= 1 then
		tree:add_proto_expert_info(e_version)
		return
	end
	tree:add(f.dir, buf(1, 1))
	local hdr = buf(4, 16)
	tree:add_le(f.src, hdr(0, 4))
	tree:add_le(f.dst, hdr(4, 4))
	tree:add_le(f.reserved, hdr(8, 4))
	tree:add_le(f.len, hdr(12, 2))
	tree:add_le(f.flags, hdr(14, 2))

	local src, dst, len = hdr(0, 4):le_uint(), hdr(4, 4):le_uint(), hdr(12, 2):le_uint()
	local kept = buf:len() - 20
	local info = string.format("%s From 0x%x, To 0x%x, Len %d",
		directions[buf(1, 1):uint()] or "?", src, dst, len)
	if kept > 0 then
		local payload = buf(20, math.min(kept, len))
		tree:add(f.payload, payload)
		if dst == NS_ADDR and payload:len() >= NS_SIZE then
			info = info .. "  " .. dissect_ns(payload, tree)
		end
	end
	if kept < len then
		tree:add_proto_expert_info(e_cut)
	end
	pinfo.cols.info = info
end

DissectorTable.get("wtap_encap"):add(wtap_encaps.USER0, rpmsg)
