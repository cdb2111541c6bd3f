defmodule LambdaRuntime.AWS.ProfileFile do
  @moduledoc """
  Reads the AWS CLI's shared files, `~/.aws/credentials` and
  `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`),
  into `%{profile_name => %{key => value}}`.

  In the config file a section is `[default]` or `[profile NAME]`; in the
  credentials file it is `[NAME]`. Keys are lower-cased; `#` and `;` start
  comment lines; indented lines (sub-sections such as `s3 =`) are skipped.
  """

  @doc "The profiles in the credentials file (missing file: none)."
  @spec credentials(%{optional(String.t()) => String.t()}) :: %{String.t() => map()}
  def credentials(env) do
    path = env["AWS_SHARED_CREDENTIALS_FILE"] || Path.join(home(env), ".aws/credentials")
    read(path, :credentials)
  end

  @doc "The profiles in the config file (missing file: none)."
  @spec config(%{optional(String.t()) => String.t()}) :: %{String.t() => map()}
  def config(env) do
    path = env["AWS_CONFIG_FILE"] || Path.join(home(env), ".aws/config")
    read(path, :config)
  end

  @doc "Parses the text of a shared file of the given kind."
  @spec parse(String.t(), :credentials | :config) :: %{String.t() => map()}
  def parse(text, kind) do
    text
    |> String.split(~r/\r?\n/)
    |> Enum.reduce({nil, %{}}, fn line, {section, acc} -> line(line, section, acc, kind) end)
    |> elem(1)
  end

  defp read(path, kind) do
    case File.read(Path.expand(path)) do
      {:ok, text} -> parse(text, kind)
      {:error, _} -> %{}
    end
  end

  defp home(env), do: env["HOME"] || System.user_home() || "."

  defp line(line, section, acc, kind) do
    trimmed = String.trim(line)

    cond do
      trimmed == "" or String.starts_with?(trimmed, ["#", ";"]) ->
        {section, acc}

      String.starts_with?(trimmed, "[") ->
        name = trimmed |> String.trim_leading("[") |> String.split("]") |> hd() |> String.trim()
        name = section_name(name, kind)
        {name, if(name, do: Map.put_new(acc, name, %{}), else: acc)}

      section == nil or String.match?(line, ~r/^\s/) ->
        {section, acc}

      true ->
        case String.split(trimmed, "=", parts: 2) do
          [key, value] ->
            key = key |> String.trim() |> String.downcase()
            {section, Map.update!(acc, section, &Map.put(&1, key, strip_comment(value)))}

          _ ->
            {section, acc}
        end
    end
  end

  defp section_name(name, :credentials), do: name
  defp section_name("default", :config), do: "default"

  defp section_name("profile " <> name, :config), do: String.trim(name)
  defp section_name(_other, :config), do: nil

  defp strip_comment(value) do
    value |> String.split(~r/\s[#;]/, parts: 2) |> hd() |> String.trim()
  end
end
