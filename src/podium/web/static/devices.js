// Camera and microphone before and during the class: a preview, pickers and a level meter.

export class Devices {
  constructor({ video, meter, cameraSelect, micSelect, note }) {
    this.video = video;
    this.meter = meter;
    this.cameraSelect = cameraSelect;
    this.micSelect = micSelect;
    this.note = note;
    this.stream = null;
    this.audioContext = null;
    this.meterTimer = null;
  }

  async open() {
    const constraints = {
      video: this.cameraSelect.value ? { deviceId: { exact: this.cameraSelect.value } } : true,
      audio: this.micSelect.value ? { deviceId: { exact: this.micSelect.value } } : true,
    };
    this.stopTracks();
    try {
      this.stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      this.stream = null;
      this.note.textContent = "Your camera and microphone are not available: " +
        "you can still join, watch and chat. (" + error.name + ")";
      this.note.hidden = false;
      return null;
    }
    this.note.hidden = true;
    this.video.srcObject = this.stream;
    await this.listDevices();
    this.measure();
    return this.stream;
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const current = {
      videoinput: this.stream?.getVideoTracks()[0]?.getSettings().deviceId,
      audioinput: this.stream?.getAudioTracks()[0]?.getSettings().deviceId,
    };
    const fill = (select, kind, label) => {
      select.replaceChildren();
      devices.filter((d) => d.kind === kind).forEach((d, i) => {
        const option = new Option(d.label || `${label} ${i + 1}`, d.deviceId);
        option.selected = d.deviceId === current[kind];
        select.append(option);
      });
    };
    fill(this.cameraSelect, "videoinput", "Camera");
    fill(this.micSelect, "audioinput", "Microphone");
  }

  measure() {
    clearInterval(this.meterTimer);
    if (!this.stream?.getAudioTracks().length) return;
    this.audioContext ??= new AudioContext();
    const level = loudness(this.audioContext, this.stream);
    this.meterTimer = setInterval(() => { this.meter.value = Math.min(1, level() * 4); }, 100);
  }

  stopTracks() {
    this.stream?.getTracks().forEach((t) => t.stop());
  }

  // The stream leaves the preview for the call (the call owns it from now on).
  handOver() {
    clearInterval(this.meterTimer);
    this.video.srcObject = null;
    const stream = this.stream;
    this.stream = null;
    return stream;
  }
}

// How loud a stream is now (0..1): the call uses it to find who speaks.
export function loudness(context, stream) {
  const track = stream.getAudioTracks()[0];
  if (!track) return () => 0;
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  return () => {
    analyser.getFloatTimeDomainData(samples);
    return Math.sqrt(samples.reduce((s, x) => s + x * x, 0) / samples.length);
  };
}
