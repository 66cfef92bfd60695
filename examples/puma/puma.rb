# frozen_string_literal: true

# Puma in cluster mode: 4 workers forked from a master that loaded the app
# (and so created the shared objects) first.
#
#   puma -C examples/puma/puma.rb -b tcp://127.0.0.1:9292 examples/puma/config.ru

workers 4
threads 4, 4
preload_app!
environment "production"
