-- wrk script for bench/tiles: each thread (its connections share it) walks the list of tile paths (one a line, in the
-- file named by TILES), every thread starting at its own offset, so 16 connections spread over the
-- whole list instead of hammering one tile.
-- Prints one line: requests/s, answers >= 400, socket errors and latency percentiles.
local paths = {}
for line in io.lines(os.getenv("TILES")) do paths[#paths + 1] = line end
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  i = (id * 7919) % #paths
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local errs = summary.errors
  io.write(string.format("wrk_rps=%.1f non2xx=%d sockerr=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests / (summary.duration / 1e6), errs.status,
    errs.connect + errs.read + errs.write + errs.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
