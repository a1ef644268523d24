-- wrk script for mock-ehr/bench/fhir.sh: every request carries the DPoP-bound token
-- and a proof never used before (proofs are single-use: the server refuses a replay).
--
-- PROOFS: the file bench_proofs wrote (token on line 1, one proof per line after).
-- PATHS:  request paths separated by spaces, cycled (for a paged search).
-- Each wrk thread takes every n-th proof, so no two threads share one.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("PROOFS")
  local nthreads = tonumber(os.getenv("THREADS") or "1")
  token = nil
  proofs = {}
  local n = 0
  for line in io.lines(file) do
    if token == nil then
      token = line
    else
      if n % nthreads == id then
        table.insert(proofs, line)
      end
      n = n + 1
    end
  end
  paths = {}
  for p in string.gmatch(os.getenv("PATHS"), "%S+") do
    table.insert(paths, p)
  end
  i = 0
  auth = "DPoP " .. token
end

function request()
  i = i + 1
  local proof = proofs[i]
  if proof == nil then
    -- Out of proofs: reuse one, which the server refuses (and wrk counts).
    proof = proofs[1]
  end
  local path = paths[(i - 1) % #paths + 1]
  return wrk.format("GET", path, { ["Authorization"] = auth, ["DPoP"] = proof })
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
