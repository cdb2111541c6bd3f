#!/bin/sh
# sandbox.sh LAYER_DIR TASK_DIR: /opt/bootstrap in the Lambda-shaped bwrap
# sandbox of test/support/layer/sandbox.ex (read-only root from /usr and /etc, layer
# at /opt, function at /var/task, tmpfs /tmp, host Erlang/Elixir hidden,
# Lambda's environment only, uid 993), keeping AWS_LAMBDA_RUNTIME_API,
# _HANDLER and ERL_FLAGS from the caller.
set -eu
# shellcheck disable=SC2016 # $LATEST is Lambda's literal version name
exec bwrap --unshare-all --share-net --die-with-parent \
  --ro-bind /usr /usr --ro-bind /etc /etc \
  --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/sbin /sbin \
  --dev /dev --proc /proc --tmpfs /tmp --dir /var/task --dir /opt \
  --ro-bind "$1" /opt --ro-bind "$2" /var/task \
  --tmpfs /usr/lib/erlang --tmpfs /usr/lib/elixir --remount-ro / \
  --uid 993 --gid 990 --chdir /var/task --clearenv \
  --setenv AWS_LAMBDA_RUNTIME_API "$AWS_LAMBDA_RUNTIME_API" \
  --setenv _HANDLER "${_HANDLER:-Hello.handle}" \
  --setenv ERL_FLAGS "${ERL_FLAGS:-}" \
  --setenv LAMBDA_TASK_ROOT /var/task \
  --setenv AWS_LAMBDA_FUNCTION_NAME hello --setenv AWS_LAMBDA_FUNCTION_VERSION '$LATEST' \
  --setenv AWS_LAMBDA_FUNCTION_MEMORY_SIZE 512 --setenv AWS_REGION eu-west-1 \
  --setenv TZ :UTC --setenv LANG en_US.UTF-8 \
  --setenv PATH /usr/local/bin:/usr/bin/:/bin:/opt/bin \
  --setenv LD_LIBRARY_PATH /var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \
  /opt/bootstrap
