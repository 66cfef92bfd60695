# frozen_string_literal: true

# Loads the compiled extension, which defines the native classes,
# ProcessShared::ProcessError / ClosedError / ForkError and the native half of
# ProcessShared::ForkHook, then installs the fork hook.
require "process_shared/version"
require "process_shared/process_shared"
require "process_shared/fork_hook"
