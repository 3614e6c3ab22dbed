"""Typed requests, jobs and render work units shared by every layer.

Nothing here imports discord or torch: these objects cross the process boundary to the
renderer (they are pickled) and are stored in SQLite by the services.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

MAX_SEED = 2**32 - 1
# Discord interaction tokens work for 15 minutes after the interaction was created.
INTERACTION_TOKEN_LIFETIME = 15 * 60


class JobKind(str, enum.Enum):
    IMAGINE = "imagine"
    REROLL = "reroll"
    VARIATION = "variation"
    UPSCALE = "upscale"
    OUTPAINT = "outpaint"  # Zoom Out, Pan, Make Square (migration 0010)
    REGION = "region"  # Vary Region: part of the image redrawn (migration 0010)


class JobTask(str, enum.Enum):
    """What the renderer does for a job: stored explicitly, never inferred from its parameters."""

    TXT2IMG = "txt2img"
    IMG2IMG = "img2img"
    UPSCALE = "upscale"
    INPAINT = "inpaint"  # masked: outpaints (JobParams.edit says which), bot/renderer/outpaint.py


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # images stored, not yet shown in Discord
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    BLOCKED = "blocked"  # stopped by the content-safety filter

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)



class Priority(enum.IntEnum):
    """Lower runs first. Inside one class users share the renderer fairly."""

    MODERATOR = 0
    INTERACTIVE = 1
    BULK = 2


@dataclass(frozen=True)
class Requester:
    """Who asked and where; filled in by the cog from the interaction."""

    user_id: int
    channel_id: int
    guild_id: int | None = None
    is_moderator: bool = False
    is_bulk: bool = False
    interaction_id: int | None = None
    interaction_token: str | None = None
    application_id: int | None = None
    role_ids: frozenset[int] = frozenset()  # the member's roles (quota tiers)
    # The channel is age-restricted (a thread: its parent is). False for DMs and channels the bot
    # cannot see: content safety fails closed. Not stored: delivery asks the channel again.
    channel_nsfw: bool = False


def work_units(width: int, height: int, steps: int, images: int) -> float:
    """GPU work as ETAs and the fair share count it: pixels x steps x images, in millions
    (megapixel-steps). Prices come from measured costs instead (bot/prices.py)."""
    return width * height * steps * images / 1e6


def denoising_steps(steps: int, strength: float | None) -> int:
    """Steps the pipeline really runs: image-to-image starts part-way into the schedule and runs
    int(steps x strength) of them (diffusers), so a variation costs what it renders."""
    return steps if strength is None else max(1, int(steps * strength))


@dataclass(frozen=True)
class ImagePrompt:
    """An uploaded image, validated and stored (bot/services/image_input.py): /imagine renders
    image-to-image from it. `path` is relative to DATA_DIR; width x height is the stored size,
    already fitted to the model's size for the image's own aspect."""

    path: str
    width: int
    height: int
    aspect: str  # the stored size's ratio, e.g. "4:3" (display and history)
    source: str = ""  # what was uploaded, for messages: "JPEG 1600×1200"


@dataclass(frozen=True)
class GenerationRequest:
    """What a user asked for, before validation. None means "use the model's default"."""

    prompt: str
    negative_prompt: str = ""
    aspect: str = "1:1"
    count: int = 1
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    image: ImagePrompt | None = None  # an image prompt: image-to-image from it
    strength: float | None = None  # image prompts only: how much of the image is re-drawn
    # Midjourney-style parameters written in the prompt (bot/prompt_params.py):
    chaos: int | None = None  # --chaos 0..100: how alike the grid's images are (None: independent seeds)
    tile: bool = False  # --tile: seamless tiling
    model: str | None = None  # --model: must name the loaded model
    inline: str = ""  # the parameters as written back canonically ("--ar 16:9 --tile"), for Info
    loras: tuple = ()  # LoraChoice (bot/models_catalog.py): the `lora:` option and the prompt's <lora:...>


@dataclass(frozen=True)
class RerollRequest:
    """The same parameters as `parent_job_id` with a new seed (the Re-roll button)."""

    parent_job_id: int


@dataclass(frozen=True)
class VariationRequest:
    """Image-to-image from image `index` of `parent_job_id` (the V buttons). `strength`: the
    clicker's /settings variation (None: the model profile's)."""

    parent_job_id: int
    index: int
    strength: float | None = None


@dataclass(frozen=True)
class UpscaleRequest:
    """Image `index` of `parent_job_id` at twice the size (the U buttons)."""

    parent_job_id: int
    index: int


@dataclass(frozen=True)
class OutpaintRequest:
    """Image `index` of `parent_job_id` on a larger canvas (Zoom Out, Pan, Make Square buttons).
    `edit`: "zoom:2", "zoom:1.5", "pan:left|right|up|down" or "square" (outpaint_geometry.py)."""

    parent_job_id: int
    index: int
    edit: str


@dataclass(frozen=True)
class RegionRequest:
    """Vary Region: the cells of image `index` named by `edit` ("region:c1,c5") redrawn, with
    `prompt` (None: the parent's)."""

    parent_job_id: int
    index: int
    edit: str
    prompt: str | None = None


# Everything that can ask for GPU work; each goes through JobService.submit.
WorkRequest = (GenerationRequest | RerollRequest | VariationRequest | UpscaleRequest | OutpaintRequest
               | RegionRequest)


@dataclass(frozen=True)
class JobParams:
    """Fully resolved, validated render parameters (what gets stored and reproduced)."""

    prompt: str
    negative_prompt: str
    aspect: str
    width: int
    height: int
    steps: int
    guidance: float
    count: int
    seed: int
    model: str
    scheduler: str = ""
    strength: float | None = None  # img2img only
    init_image: str | None = None  # img2img and upscale: path under DATA_DIR
    task: JobTask = JobTask.TXT2IMG
    upscale_factor: float | None = None  # upscale only: output size / the parent image's size
    # Content safety's addition to the negative prompt (set per channel at submit, see
    # bot/services/safety.py), kept apart from the member's: the renderer gets both
    # (ImageSpec.pipeline_negative), Info and the PNG show each, labelled.
    safety_negative: str = ""
    chaos: int | None = None  # --chaos (txt2img only; see bot/renderer/chaos.py)
    tile: bool = False  # --tile: circular padding while rendering (bot/renderer/tiling.py)
    inline: str = ""  # the prompt's parameters, canonical ("--ar 16:9 --chaos 40"): Info shows them
    # inpaint only: what was done to the parent image ("zoom:2", "pan:left", "square"); with the
    # job's parent it is the lineage Info and the PNG show.
    edit: str | None = None
    loras: str = ""  # "name:0.8,other:0.5" (bot/models_catalog.py format_loras): LORA_DIR files

    @property
    def work(self) -> float:
        """The job's GPU work (see `work_units`): ETAs and the fair share use it."""
        return work_units(self.width, self.height, denoising_steps(self.steps, self.strength), self.count)

    def image_seed(self, index: int) -> int:
        """Seed of image `index`: consecutive seeds, A1111 style, so each image reproduces alone."""
        return (self.seed + index) % (MAX_SEED + 1)


@dataclass
class Job:
    id: int
    kind: JobKind
    requester: Requester
    params: JobParams
    priority: Priority
    status: JobStatus
    created_at: float
    parent_job_id: int | None = None
    parent_image_index: int | None = None
    attempts: int = 0
    message_id: int | None = None
    error: str | None = None
    cost: int = 10  # tenths of a credit (bot/credits.py): its work priced at admission; fair share counts it
    charged: int = 0  # tenths debited at admission (0 without quotas)
    # What the debit left, for the first reply only (not stored): None = the member has no limit.
    balance_left: int | None = field(default=None, compare=False)

    @property
    def user_id(self) -> int:
        return self.requester.user_id

    def batch_key(self) -> tuple:
        """Jobs with equal keys can share one pipeline call (see scheduler batching)."""
        p = self.params
        return (
            p.model,
            p.task,
            p.width,
            p.height,
            p.steps,
            round(p.guidance, 4),
            p.scheduler,
            p.strength,
            p.upscale_factor,  # written into each PNG's metadata: one value per batch
            p.tile,  # changes the model's convolutions for the whole call
            p.edit,  # one mask geometry per batch
            p.loras,  # adapters are set for the whole call
        )


# ---- Work units sent to the renderer process (picklable, torch-free) ----


@dataclass(frozen=True)
class ImageSpec:
    """One output image: its own prompt and seed so batching never changes pixels."""

    job_id: int
    index: int
    prompt: str
    negative_prompt: str  # the member's
    seed: int
    output_path: str  # absolute path the renderer writes the PNG to
    init_image: str | None = None  # absolute path, img2img only
    # What content safety adds (JobParams.safety_negative): kept apart so the PNG labels each.
    safety_negative: str = ""
    chaos: int | None = None  # --chaos: initial noise partly shared with the job's other images
    chaos_seed: int | None = None  # the job's seed, from which that shared noise is drawn
    lineage: str = ""  # an edit's source, for the PNG: "job 12 image 1"

    @property
    def pipeline_negative(self) -> str:
        """The negative prompt the pipeline gets: the member's, then the bot's."""
        return ", ".join(part for part in (self.negative_prompt, self.safety_negative) if part)


@dataclass(frozen=True)
class LoraSpec:
    """A LoRA file for one render call; `hash` is filled in by the renderer (A1111's short hash)."""

    name: str
    path: str
    weight: float
    hash: str = ""


@dataclass(frozen=True)
class RenderBatch:
    """Compatible images rendered in one pipeline call."""

    batch_id: int
    width: int
    height: int
    steps: int
    guidance: float
    images: tuple[ImageSpec, ...]
    strength: float | None = None  # img2img (and upscale) strength
    model_label: str = ""  # written into PNG metadata ("Model: ...")
    task: JobTask = JobTask.TXT2IMG
    upscale_factor: float | None = None  # upscale: width / the source image's width
    # upscale: a spandrel model file (UPSCALER_MODEL) that enlarges before image-to-image; None:
    # Lanczos. The path must exist where the renderer runs (as for a local IMAGE_MODEL folder).
    upscaler: str | None = None
    edit: str | None = None  # inpaint: the outpaint of every image (JobParams.edit)
    watermark: bool = True  # WATERMARK: embed the invisible watermark (provenance.py); XMP is always written
    tile: bool = False  # --tile: seamless tiling (bot/renderer/tiling.py)
    preview_every: int = 0  # PREVIEW_EVERY_STEPS: a live preview every N steps (bot/renderer/preview.py); 0: none
    preview_taesd: str | None = None  # PREVIEW_TAESD: a local AutoencoderTiny folder for sharper previews
    model_source: str = ""  # hub id or folder of the batch's model ("": the worker's first model)
    loras: tuple[LoraSpec, ...] = ()  # adapters active for this call
    model_hash: str = ""  # filled in by the renderer (bot/renderer/model_cache.py): PNG "Model hash"

    @property
    def is_img2img(self) -> bool:
        return self.task is not JobTask.TXT2IMG


@dataclass(frozen=True)
class RenderedImage:
    job_id: int
    index: int
    seed: int
    path: str
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class EncodedImage:
    """One finished image as PNG bytes (A1111 `parameters` chunk included), not yet on disk.

    Workers encode; the bot's side stores (atomic write under DATA_DIR), so a Ray actor on another
    machine and a local worker process hand back the same thing."""

    job_id: int
    index: int
    seed: int
    png: bytes
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class RenderResult:
    batch_id: int
    images: tuple[RenderedImage, ...]
    seconds: float  # wall time of the pipeline call + PNG writing, measured in the renderer
    steps_per_second: float = 0.0


@dataclass(frozen=True)
class ModelInfo:
    """What the renderer reports once the pipeline is loaded."""

    model: str
    pipeline_class: str
    scheduler: str
    device: str
    dtype: str
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StoredImage:
    """An image recorded in the database; `path` is absolute (DATA_DIR joined). `pruned_at`: when
    the retention pass removed its file (the row stays)."""

    job_id: int
    index: int
    seed: int
    path: str
    sha256: str
    width: int
    height: int
    pruned_at: float | None = None


@dataclass(frozen=True)
class AdmissionPlan:
    """A validated request: the job `admit()` would insert."""

    kind: JobKind
    params: JobParams
    parent_job_id: int | None = None
    image_index: int | None = None
    dedupe_key: str | None = None
    cost: int = 10  # tenths of a credit (bot/prices.py: fixed at submit)
