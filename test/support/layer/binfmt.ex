defmodule LambdaRuntime.TestSupport.Binfmt do
  @moduledoc """
  The system's binfmt_misc as this machine's own mount namespace sees it,
  to show that a sandbox running another architecture registered nothing
  there: `state/0` before and after must be equal.
  """

  @dir "/proc/sys/fs/binfmt_misc"

  @doc """
  `:not_mounted` (no binfmt_misc mounted at #{@dir}: no registration can
  exist), or `{:mounted, %{entry => contents}}`.
  """
  def state do
    if File.exists?(Path.join(@dir, "status")) do
      entries =
        for name <- File.ls!(@dir), name != "register", into: %{} do
          {name, File.read!(Path.join(@dir, name))}
        end

      {:mounted, entries}
    else
      :not_mounted
    end
  end

  @doc """
  Whether a registration in `state` runs ELF programs for `arch` (`:arm64`,
  `:x86_64`), whatever its name.
  """
  def emulates?(:not_mounted, _arch), do: false

  def emulates?({:mounted, entries}, arch) do
    machine = %{arm64: "0200b700", x86_64: "02003e00"}[arch]

    Enum.any?(entries, fn {_name, text} ->
      text =~ "enabled" and text =~ ~r/magic 7f454c46[0-9a-f]*#{machine}/
    end)
  end
end
