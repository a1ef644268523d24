-- POST PREFIX .. line .. SUFFIX, each line of FILE exactly once (codes and client
-- assertions are single-use). The lines are split between wrk's threads; a thread that
-- runs out repeats its last line, which the server refuses (counted as non-2xx).
-- usage: wrk -t N -s post_lines.lua URL -- FILE PREFIX SUFFIX N
local next_id = 1
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local file, threads = args[1], tonumber(args[4])
  local prefix, suffix = args[2] or "", args[3] or ""
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  -- Whole requests are built here, so that request() allocates nothing.
  requests, index = {}, 0
  local i = 0
  for line in io.lines(file) do
    if line ~= "" then
      if i % threads == id - 1 then
        requests[#requests + 1] = wrk.format(nil, nil, nil, prefix .. line .. suffix)
      end
      i = i + 1
    end
  end
end

function request()
  index = index + 1
  return requests[index] or requests[#requests] or wrk.format()
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
