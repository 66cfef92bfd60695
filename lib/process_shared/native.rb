# frozen_string_literal: true

# Loads the compiled extension, which defines the native classes and
# ProcessShared::ProcessError / ProcessShared::ClosedError.
require "process_shared/version"
require "process_shared/process_shared"
