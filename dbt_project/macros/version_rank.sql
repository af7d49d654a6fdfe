{#-
  The contract's "latest version wins", in one place: rank 1 is the row with
  the latest `version_column` for `key`; ties go to the later delivery day,
  then file, then line (a re-send of the same version: the last one read).
  Without a version column (inventory snapshots) only delivery order counts.
-#}
{% macro version_rank(key, version_column=none) %}
    row_number() over (
        partition by {{ key }}
        order by {% if version_column %}{{ version_column }} desc, {% endif -%}
            _dt desc, _file desc, _line desc
    )
{%- endmacro %}
