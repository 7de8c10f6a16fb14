"""Party organisations. Issue 5 builds members, activities and grids on this tree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    class Kind(models.TextChoices):
        WORKING_COMMITTEE = "working_committee", _("党工委")
        COMMITTEE = "committee", _("党委")
        JOINT_COMMITTEE = "joint_committee", _("联合党委")
        COMMUNITY_COMMITTEE = "community_committee", _("社区大党委")
        GENERAL_BRANCH = "general_branch", _("党总支")
        BRANCH = "branch", _("党支部")

    name = models.CharField(_("名称"), max_length=120, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name=_("所在企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_organisations",
    )
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def descendant_ids(self) -> set[int]:
        """This organisation and everything below it (a few hundred nodes at most)."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(
                Organisation.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.update(frontier)
        return ids
