# frozen_string_literal: true

# A counter and a lock that outlive Unicorn's USR2 re-exec (see unicorn.rb).
#
#   GET /hit    counts the request under the lock, answers the new count
#   GET /stats  {"hits":…, "master":…} as JSON (`master`: this worker's master)
#
# Both objects are opened by name: the first master creates them, every
# later one (and every worker) opens the same ones. They stay until
# unlinked, which a deploy script does when the service stops for good:
#
#   ruby -rprocess_shared -e 'ProcessShared::Mutex.unlink("myapp.hits.lock")' ...

require "json"
require "process_shared"

prefix = ENV.fetch("COUNTER_NAME", "unicorn.demo")
hits = ProcessShared::SharedArray.new(:int64, 1, name: "#{prefix}.hits")
lock = ProcessShared::Mutex.new(name: "#{prefix}.lock")

count_hit = lambda do
  lock.synchronize do
    # Read, let other workers run, write: without one lock shared by every
    # worker of every master, counts would be lost here.
    count = hits[0]
    Thread.pass
    hits[0] = count + 1
  end
end

json = ->(body) { [200, { "content-type" => "application/json" }, [JSON.generate(body)]] }

run(lambda do |env|
  case env["PATH_INFO"]
  when "/hit" then json.call(hits: count_hit.call, master: Process.ppid)
  when "/stats" then json.call(hits: lock.synchronize { hits[0] }, master: Process.ppid)
  else [404, { "content-type" => "text/plain" }, ["not found\n"]]
  end
end)
