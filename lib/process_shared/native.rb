# frozen_string_literal: true

# Loads the compiled extension, which defines the native classes,
# ProcessShared::ProcessError / ClosedError / ForkError and the native half of
# ProcessShared::ForkHook, then installs the fork hook.
#
# The extension is `process_shared/<ruby major.minor>/process_shared.so` in
# the precompiled gem (one per Ruby version it was built for) and in a
# checkout after `rake compile`, or `process_shared/process_shared.so` where
# the source gem compiled it at install time.
require "process_shared/version"

ruby_minor = RUBY_VERSION[/\A\d+\.\d+/]
loaded = ["process_shared/#{ruby_minor}/process_shared", "process_shared/process_shared"].any? do |feature|
  require feature
  true
rescue LoadError => e
  raise unless e.path == feature # it is there but does not load: say why

  false
end
unless loaded
  built = Dir[File.join(__dir__, "*", "process_shared.{so,bundle}")].map { |path| File.basename(File.dirname(path)) }
  raise LoadError, "process_shared #{ProcessShared::VERSION} has no native extension for Ruby #{ruby_minor} " \
                   "(#{RUBY_PLATFORM}); it has one for: #{built.empty? ? 'no Ruby' : built.sort.join(', ')}. " \
                   "Install the source gem, which compiles it (needs Rust): gem install process_shared --platform ruby"
end
require "process_shared/fork_hook"
require "process_shared/thread_end"

# The exception classes are native; for YARD:
#
# @!parse
#   module ProcessShared
#     # Raised for lock misuse, as core Ruby raises `ThreadError`: unlocking
#     # a {Mutex} or exiting a {Monitor} that the calling thread of this
#     # process does not hold, locking a {Mutex} it already holds, posting a
#     # {BinarySemaphore} that is at 1, waiting on a condition without
#     # holding its lock, signalling a monitor's condition without owning
#     # the monitor.
#     class ProcessError < ThreadError; end
#
#     # Raised by any use of an object after its `close` in this process (or
#     # of one never initialized, such as `Klass.allocate`).
#     class ClosedError < IOError; end
#
#     # Raised by `fork` when the shared objects cannot follow it into the
#     # child (macOS only: for example when a sandbox refuses to pass task
#     # ports). See {ForkHook}.
#     class ForkError < StandardError; end
#   end
