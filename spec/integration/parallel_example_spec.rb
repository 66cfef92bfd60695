# frozen_string_literal: true

require "open3"

RSpec.describe "examples/parallel_rate_limit.rb", :integration do
  root = File.expand_path("../..", __dir__)

  it "keeps at most 2 of 8 Parallel workers in the rate-limited section, and reaches 2" do
    output, status = Timeout.timeout(60) do
      Open3.capture2e(RbConfig.ruby, "-I", File.join(root, "lib"), File.join(root, "examples/parallel_rate_limit.rb"))
    end
    expect(status).to be_success, output
    expect(output).to include("results: 22140 (expected 22140)")
    expect(output).to include("peak inside the rate-limited section: 2 (limit 2)")
  end
end
