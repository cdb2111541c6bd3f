defmodule LambdaRuntime.OTPApps do
  @moduledoc """
  Erlang/OTP applications of this machine's installation (`:ssl`,
  `:public_key`, `:inets`, `:crypto`, ...) for the build and deploy code
  that runs inside a Mix project.

  Since Elixir 1.15, Mix prunes a project's code path to the applications
  in its dependency tree: an installed application outside it answers
  `{:error, :bad_name}` to `:code.lib_dir/1` and `:nofile` to its modules
  until `Mix.ensure_application!/1` puts it back. `:lambda_runtime` lists
  none of these applications (the layer must not start them at boot), so
  the code that needs one asks for it here first. On Elixir 1.14, or
  outside Mix, nothing is pruned and these functions only check that the
  application is installed.
  """

  @doc """
  Makes each application (and the applications it needs) loadable.
  Returns `:ok` or `{:error, message}` naming the first one that is not
  installed and the Debian package that has it.
  """
  @spec ensure_available([atom()]) :: :ok | {:error, String.t()}
  def ensure_available(apps) do
    Enum.reduce_while(apps, :ok, fn app, :ok ->
      case ensure_one(app) do
        :ok -> {:cont, :ok}
        :error -> {:halt, {:error, not_installed(app)}}
      end
    end)
  end

  @doc "`ensure_available/1`, raising a `RuntimeError` with its message."
  @spec ensure_available!([atom()]) :: :ok
  def ensure_available!(apps) do
    with {:error, message} <- ensure_available(apps), do: raise(message)
  end

  @doc """
  Makes the applications loadable and starts them (and what they need);
  raises with a message that names the application and its package.
  """
  @spec ensure_started!([atom()]) :: :ok
  def ensure_started!(apps) do
    ensure_available!(apps)

    Enum.each(apps, fn app ->
      case Application.ensure_all_started(app) do
        {:ok, _} -> :ok
        {:error, reason} -> raise "could not start the #{app} application: #{inspect(reason)}"
      end
    end)
  end

  @doc """
  The installed directory of an application, `{:ok, dir}` or `:error`,
  whether or not Mix pruned it from the code path (it is put back).
  """
  @spec lib_dir(atom()) :: {:ok, Path.t()} | :error
  def lib_dir(app) do
    with :ok <- ensure_one(app), dir when is_list(dir) <- :code.lib_dir(app) do
      {:ok, List.to_string(dir)}
    else
      _ -> :error
    end
  end

  defp ensure_one(app) do
    cond do
      is_list(:code.lib_dir(app)) -> :ok
      mix_prunes?() -> mix_ensure(app)
      true -> :error
    end
  end

  # Mix.ensure_application!/1 exists from Elixir 1.15, the version that
  # started pruning; it needs Mix to be running (a Mix task, `iex -S mix`).
  defp mix_prunes? do
    Code.ensure_loaded?(Mix) and function_exported?(Mix, :ensure_application!, 1) and
      List.keymember?(Application.started_applications(), :mix, 0)
  end

  defp mix_ensure(app) do
    # apply/3: the function does not exist on Elixir 1.14 (no warning there).
    apply(Mix, :ensure_application!, [app])
    :ok
  rescue
    _ in Mix.Error -> :error
  end

  defp not_installed(app) do
    package = "erlang-" <> String.replace(to_string(app), "_", "-")

    "the #{app} application is not installed in #{:code.root_dir()} " <>
      "(on Debian: apt-get install #{package}, or erlang-nox for all of OTP)"
  end
end
