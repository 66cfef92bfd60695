# frozen_string_literal: true

require_relative "lib/process_shared/version"

Gem::Specification.new do |spec|
  spec.name = "process_shared"
  spec.version = ProcessShared::VERSION
  spec.summary = "Cross-process Semaphore, Mutex, ConditionVariable, Monitor and shared memory across fork"
  spec.description = <<~DESC
    Concurrency primitives shared across fork: counting and binary semaphores,
    mutexes, condition variables, monitors and typed shared memory with Marshal
    object transfer. A reimplementation in Rust of the FFI-based process_shared
    gem, with the same API.
  DESC
  spec.authors = ["process_shared developers"]
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1"
  spec.metadata["rubygems_mfa_required"] = "true"

  spec.files = Dir[
    "lib/**/*.rb", "sig/**/*.rbs", "ext/process_shared/{extconf.rb,Cargo.toml}",
    "ext/process_shared/src/**/*.rs", "Cargo.toml", "Cargo.lock",
    "README.md", "CHANGELOG.md", "LICENSE"
  ]
  spec.require_paths = ["lib"]
  spec.extensions = ["ext/process_shared/extconf.rb"]
end
