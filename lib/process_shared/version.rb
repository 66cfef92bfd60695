# frozen_string_literal: true

module ProcessShared
  VERSION = "0.1.0"
end
