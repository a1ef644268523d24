-- POST the same form body on every request.
-- usage: wrk -s post_fixed.lua URL -- BODY [AUTHORIZATION]
function init(args)
  wrk.method = "POST"
  wrk.body = args[1]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  if args[2] and args[2] ~= "" then wrk.headers["Authorization"] = args[2] end
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
