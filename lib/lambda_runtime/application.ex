defmodule LambdaRuntime.Application do
  @moduledoc false
  # The runtime's processes start only when `LambdaRuntime.Bootstrap` (run by
  # bootstrap.sh inside Lambda) asked for them; as a dependency in `mix test`
  # or `iex` the application starts empty.
  use Application

  @impl true
  def start(_type, _args) do
    children =
      if Application.get_env(:lambda_runtime, :start_runtime, false) do
        # The Runtime adds LambdaRuntime.PollerSupervisor once init is done.
        [LambdaRuntime.Runtime]
      else
        []
      end

    Supervisor.start_link(children, strategy: :one_for_one, name: LambdaRuntime.Supervisor)
  end
end
