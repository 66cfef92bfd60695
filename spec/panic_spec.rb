# frozen_string_literal: true

require "rbconfig"

# The promise in ProcessShared's docs: a bug that makes the native code panic raises
# RuntimeError ("internal error"), never `fatal`. magnus alone would raise it as `fatal`, which no rescue
# catches and which ends the interpreter.
RSpec.describe "a Rust panic" do
  lib = File.expand_path("../lib", __dir__)

  it "reaches Ruby as a RuntimeError that can be rescued, and the gem keeps working" do
    script = <<~'RUBY'
      require "process_shared"
      begin
        ProcessShared.__panic_for_tests("on purpose")
      rescue StandardError => e
        puts "#{e.class}: #{e.message}"
      end
      puts ProcessShared::Mutex.new.synchronize { :still_working }
    RUBY
    output = run_command({ "PROCESS_SHARED_PANIC_TESTS" => "1", "RUST_BACKTRACE" => "0" },
                         RbConfig.ruby, "-I", lib, "-e", script, chdir: __dir__, timeout: 60)
    expect(output).to include("RuntimeError: process_shared: internal error (a bug, please report it): on purpose\n")
    expect(output).to end_with("still_working\n")
  end

  it "has no test method to trigger it unless the environment asks for one" do
    script = 'require "process_shared"; p ProcessShared.respond_to?(:__panic_for_tests)'
    output = run_command({ "PROCESS_SHARED_PANIC_TESTS" => nil }, RbConfig.ruby, "-I", lib, "-e", script,
                         chdir: __dir__, timeout: 60)
    expect(output).to eq("false\n")
  end
end
