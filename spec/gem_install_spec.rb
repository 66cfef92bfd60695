# frozen_string_literal: true

require "rubygems/package"
require "tmpdir"

# Builds the gem as a user would, installs it from the .gem file alone (no
# registry) into a temporary GEM_HOME, and loads it outside the checkout.
# Slow (it compiles the crate once more): `rspec --tag ~slow` leaves it out.
RSpec.describe "the packaged gem", :slow do
  root = File.expand_path("..", __dir__)

  # The environment of a user who has only the installed gem: no load path
  # or bundler settings inherited from this run.
  def user_environment(gem_home)
    inherited = ENV.keys.grep(/\A(RUBYLIB|RUBYOPT|BUNDLE_|BUNDLER_)/).to_h { |name| [name, nil] }
    inherited.merge("GEM_HOME" => gem_home, "GEM_PATH" => gem_home)
  end

  # Installing compiles the crate: minutes on a loaded 2-core machine
  # whose target/ has no unoptimized build of the dependencies yet.
  it "builds with only sources, installs from the .gem file and works outside the checkout", deadline: 600 do
    Dir.mktmpdir("process_shared-gem-") do |dir|
      gem_file = File.join(dir, "process_shared.gem")
      run_command({}, "gem", "build", "process_shared.gemspec", "--output", gem_file, chdir: root)

      package = Gem::Package.new(gem_file)
      packaged = package.contents
      expect(packaged).to match_array(package.spec.files)
      expect(packaged).to include(
        "Cargo.toml", "Cargo.lock", "ext/process_shared/Cargo.toml", "ext/process_shared/extconf.rb",
        "ext/process_shared/src/lib.rs", "lib/process_shared.rb", "lib/process_shared/native.rb",
        "README.md", "LICENSE", "CHANGELOG.md"
      )
      expect(packaged.grep(%r{\A(target|tmp|pkg|spec)/|/target/|\.(so|bundle|dylib|o|gem)\z})).to be_empty
      expect(package.spec.extensions).to eq(["ext/process_shared/extconf.rb"])

      gem_home = File.join(dir, "gems")
      # Unoptimized, which is what this example needs, at a quarter of the
      # optimized build's time (the dependencies stay built in target/).
      environment = user_environment(gem_home).merge("CARGO_TARGET_DIR" => File.join(root, "target"),
                                                     "CARGO_PROFILE_RELEASE_OPT_LEVEL" => "0")
      run_command(environment, "gem", "install", "--local", gem_file, "--install-dir", gem_home,
                  "--no-document", chdir: dir, timeout: 480)

      script = <<~RUBY
        require "process_shared"
        sem = ProcessShared::Semaphore.new(0)
        mem = ProcessShared::SharedMemory.new(:int)
        pid = fork do
          mem.put_int(0, 42)
          sem.post
          exit!(0)
        end
        sem.wait
        Process.wait(pid)
        native = $LOADED_FEATURES.grep(%r{/process_shared[.]#{RbConfig::CONFIG['DLEXT']}\\z})
        puts "native=\#{native.join(",")} version=\#{ProcessShared::VERSION} shared=\#{mem.get_int(0)}"
      RUBY
      output = run_command(user_environment(gem_home), RbConfig.ruby, "-e", script, chdir: dir)
      native = output[/native=(\S+)/, 1]
      expect(native).to start_with(File.join(gem_home, ""))
      expect(output).to include("version=#{ProcessShared::VERSION} shared=42")

      single = run_command(user_environment(gem_home), RbConfig.ruby, "-e",
                           'require "process_shared/semaphore"; print ProcessShared::Semaphore.new(3).value',
                           chdir: dir)
      expect(single).to eq("3")
    end
  end
end
